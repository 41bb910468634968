import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** A real SDK client over Streamable HTTP with a bearer token. */
export async function httpClient(url: string, token: string) {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "mai-gate-http-test", version: "0" });
  await client.connect(transport);
  return {
    client,
    async call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
      try {
        return (await client.callTool({ name, arguments: args })) as CallToolResult;
      } catch (err) {
        // fetch's "fetch failed" hides why: name the socket error in the failure.
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        if (cause) throw new Error(`${(err as Error).message}: ${cause.code ?? ""} ${cause.message ?? ""}`);
        throw err;
      }
    },
    close: () => client.close(),
  };
}
