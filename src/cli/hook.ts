import { certainlyNotAReport } from "../gate/hook-cache.js";
import type { Logger } from "../log.js";
import { out, UsageError } from "./output.js";

/**
 * `mai-gate hook pre-tool-use|stop`: Claude Code hooks; the hook's JSON arrives on stdin. A shell
 * command that certainly does not run the reporter is let through before anything heavy loads
 * (this hook runs before every command a worker runs); the rest goes to the full hook.
 */
export async function hookCommand(event: string | undefined, logger: Logger): Promise<number> {
  if (event !== "pre-tool-use" && event !== "stop") {
    throw new UsageError(
      `unknown hook "${event ?? ""}"`,
      "Use mai-gate hook pre-tool-use or mai-gate hook stop.",
    );
  }
  let input: unknown = {};
  try {
    const text = await readStdin();
    input = text.trim() ? JSON.parse(text) : {};
  } catch {
    process.stderr.write("mai-gate hook: stdin is not JSON; nothing to judge\n");
    return 0;
  }
  if (event === "pre-tool-use" && certainlyNotAReport((input ?? {}) as object, process.env)) return 0;
  const [{ preToolUseHook, stopHook }, { Workspace }] = await Promise.all([
    import("../gate/hooks.js"),
    import("../workspace.js"),
  ]);
  const open = (cwd: string | undefined) =>
    new Workspace({ cwd: cwd ?? process.cwd(), env: process.env, logger });
  const answer = event === "stop" ? await stopHook(input, open) : await preToolUseHook(input, open);
  if (answer) out(answer);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
