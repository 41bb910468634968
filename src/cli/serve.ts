import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Logger } from "../log.js";
import { createServer } from "../server.js";
import { Workspace } from "../workspace.js";

/** `mai-gate serve`: the MCP server over stdio, in the worker's worktree. */
export async function serveStdio(options: {
  configPath?: string | undefined;
  logger: Logger;
}): Promise<void> {
  const { logger } = options;
  const workspace = new Workspace({
    cwd: process.cwd(),
    env: process.env,
    logger,
    ...(options.configPath ? { configPath: options.configPath } : {}),
  });
  const { server, close } = createServer({ workspace, logger });
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    logger.info({ why }, "shutting down");
    await close().catch((err: unknown) => logger.error({ err }, "error while closing"));
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("end", () => void shutdown("stdin closed"));
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  await server.connect(new StdioServerTransport());
  logger.debug({ cwd: process.cwd() }, "serving over stdio");
}
