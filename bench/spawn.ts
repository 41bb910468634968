import { resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const CLI = resolve(import.meta.dirname, "../src/cli.js");

/** A real `mai-gate serve` process over stdio, with a real SDK client: what every worker's client starts. */
export async function spawnClient(cwd: string, env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve"],
    cwd,
    env: { PATH: process.env.PATH ?? "", MAI_GATE_LOG: "error", ...env },
  });
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return client;
}

/** A tool call that must succeed; answers its structured content. */
export async function callOk(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  return r.structuredContent as Record<string, unknown>;
}

/** The version a reservation answered. */
export async function reserve(client: Client, name: string): Promise<number> {
  const out = await callOk(client, "reserve_migration_slot", { name });
  return (out.leases as { version: number }[])[0]!.version;
}
