import { resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** The built CLI (`npm test` builds first). */
export const CLI = resolve(import.meta.dirname, "../../dist/src/cli.js");

/** Spawns `mai-gate serve` as a real child process and connects a real SDK client over stdio. */
export async function spawnServer(cwd: string, env: Record<string, string> = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve"],
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MAI_GATE_LOG: "warn", ...env },
    stderr: "pipe",
  });
  const stderr: string[] = [];
  transport.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name: "mai-gate-integration", version: "0" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    stderr,
    async call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
      return (await client.callTool({ name, arguments: args })) as CallToolResult;
    },
    async close() {
      await client.close().catch(() => undefined);
    },
  };
}
