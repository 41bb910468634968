import { InputError } from "../errors.js";
import { startHttpServer } from "../http/server.js";
import { TokenBook } from "../http/tokens.js";
import type { Logger } from "../log.js";

/** `mai-gate serve --http PORT [--host H] --tokens FILE`: one server for the head, the tester and remote clients. */
export async function serveHttp(options: {
  port: string;
  host?: string | undefined;
  tokens?: string | undefined;
  configPath?: string | undefined;
  logger: Logger;
}): Promise<void> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InputError(`--http ${options.port} is not a port`);
  const tokensFile = options.tokens ?? process.env.MAI_GATE_TOKENS;
  if (!tokensFile)
    throw new InputError(
      "HTTP mode needs a tokens file",
      "Pass --tokens FILE (or set MAI_GATE_TOKENS); see the README.",
    );
  const tokens = await TokenBook.load(tokensFile, process.env);
  const server = await startHttpServer({
    cwd: process.cwd(),
    port,
    host: options.host ?? "127.0.0.1",
    tokens,
    logger: options.logger,
    configPath: options.configPath,
  });
  process.stderr.write(
    `mai-gate: MCP at ${server.url}/mcp, status page at ${server.url}/, health at ${server.url}/healthz\n`,
  );
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    options.logger.info({ signal }, "shutting down: finishing in-flight calls");
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}
