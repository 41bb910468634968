import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { silentLogger } from "../../src/log.js";
import { createServer } from "../../src/server.js";
import { Workspace, type WorkspaceOptions } from "../../src/workspace.js";

/** A real SDK client connected to a real server over the SDK's in-memory transport. */
export async function connect(options: WorkspaceOptions) {
  const workspace = new Workspace({ logger: silentLogger(), ...options });
  const { server, close } = createServer({ workspace, logger: silentLogger() });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: "mai-gate-test", version: "0" });
  await client.connect(clientTransport);
  return {
    client,
    workspace,
    async call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
      return (await client.callTool({ name, arguments: args })) as CallToolResult;
    },
    async close() {
      await client.close();
      await close();
    },
  };
}

export type Connected = Awaited<ReturnType<typeof connect>>;

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/** The structured content of a successful call; fails loudly with the text otherwise. */
export function structured<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`tool failed: ${textOf(result)}`);
  return result.structuredContent as T;
}
