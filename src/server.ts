import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerPrompts } from "../prompts/index.js";
import { registerDispatch } from "../tools/dispatch.js";
import type { Logger } from "./log.js";
import { VERSION } from "./version.js";
import type { Workspace } from "./workspace.js";

export interface ServerDeps {
  workspace: Workspace;
  logger: Logger;
}

const INSTRUCTIONS = `mai-gate guards database migrations and completion for workers on branches mai/<worker>/<task>.
Before creating a migration file, call reserve_migration_slot and create exactly the file it names.
The prompt "migration-workflow" walks through the whole safe-migration procedure.`;

/** Builds the MCP server with every tool and prompt, bound to no transport. */
export function createServer(deps: ServerDeps): { server: McpServer; close: () => Promise<void> } {
  const server = new McpServer(
    { name: "mai-gate", version: VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  const toolDeps = { ...deps, onFirstCall: () => deps.workspace.startup() };
  // The tools' modules load at the first tool request, not before `initialize` is answered.
  registerDispatch(server, toolDeps, async () => {
    const { registerAll } = await import("../tools/index.js");
    return (registrar) => registerAll(registrar, toolDeps);
  });
  registerPrompts(server);
  return {
    server,
    async close() {
      await server.close();
      await deps.workspace.close();
    },
  };
}
