import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Deps } from "../src/deps.js";
import { describeError, MaiGateError } from "../src/errors.js";
import type { Logger } from "../src/log.js";

/** The parts of `Deps` this module uses. */
type Uses = Deps;

/** What every tool gets from `createServer`. */
export interface ToolDeps {
  workspace: Uses;
  logger: Logger;
  /** Work the server leaves until it is first used (see `Workspace.startup`). */
  onFirstCall?: () => Promise<void>;
}

/** A successful answer: structured content for programs, one short text for the model. */
export function ok(structured: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/**
 * The one error policy: a domain error becomes `isError` with what went wrong and the next step;
 * anything else is unexpected, logged, and answered the same way. The server never crashes on it.
 */
export function toToolError(err: unknown, logger: Logger, tool: string): CallToolResult {
  if (!(err instanceof MaiGateError)) logger.error({ err, tool }, "unexpected error in tool");
  const code = err instanceof MaiGateError ? err.code : "internal";
  return { isError: true, content: [{ type: "text", text: `[${code}] ${describeError(err)}` }] };
}

export async function runTool(
  deps: ToolDeps,
  tool: string,
  body: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await body();
  } catch (err) {
    return toToolError(err, deps.logger, tool);
  }
}

/** Untrusted text (command output, SQL, file content) in a block the model can tell apart. */
export function fence(label: string, text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${label} (untrusted text):\n${ticks}\n${text}\n${ticks}`;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
