import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Role } from "../identity.js";
import type { Logger } from "../log.js";
import { createServer } from "../server.js";
import { VERSION } from "../version.js";
import { Workspace } from "../workspace.js";
import { pageData } from "./status-data.js";
import { renderStatusPage } from "./status-page.js";
import { presentedToken, type TokenBook } from "./tokens.js";

export interface HttpServerOptions {
  /** The repository checkout the server judges from (leases, refs, gates from refs). */
  cwd: string;
  port: number;
  host: string;
  tokens: TokenBook;
  logger: Logger;
  env?: Record<string, string | undefined>;
  configPath?: string | undefined;
  /** Status page refresh interval. */
  refreshSeconds?: number;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

/**
 * `mai-gate serve --http PORT`: the MCP Streamable HTTP transport (stateless: one server per
 * request, one workspace per token so jobs and caches live on), bearer tokens, a status page at `/`
 * and `/healthz`. Shutting down lets in-flight calls finish and records running suite jobs as
 * interrupted.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { logger } = options;
  const workspaces = new Map<string, Workspace>();
  const workspaceFor = (who: { worker: string; role: Role }) => {
    const key = `${who.role}:${who.worker}`;
    let ws = workspaces.get(key);
    if (!ws) {
      ws = new Workspace({
        cwd: options.cwd,
        env: options.env ?? process.env,
        logger,
        identity: who,
        ...(options.configPath ? { configPath: options.configPath } : {}),
      });
      workspaces.set(key, ws);
    }
    return ws;
  };
  let inFlight = 0;
  let closing = false;
  const started = Date.now();
  const server = createHttpServer((req, res) => {
    inFlight++;
    res.on("close", () => inFlight--);
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, path: req.url?.split("?")[0] }, "http request failed");
      if (!res.headersSent) send(res, 500, { error: "internal error" });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://mai-gate");
    if (url.pathname === "/healthz") {
      return send(res, closing ? 503 : 200, {
        status: closing ? "stopping" : "ok",
        version: VERSION,
        uptime_s: Math.round((Date.now() - started) / 1000),
        in_flight: inFlight - 1,
      });
    }
    if (url.pathname === "/" && url.searchParams.has("token")) {
      const token = url.searchParams.get("token") ?? "";
      if (!options.tokens.identify(token)) return unauthorized(res);
      res.writeHead(303, {
        location: "/",
        "set-cookie": `mai_gate_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return void res.end();
    }
    const who = options.tokens.identify(presentedToken(req.headers, { cookie: url.pathname === "/" }));
    if (!who) return unauthorized(res);
    if (url.pathname === "/") return statusPage(res);
    if (url.pathname !== "/mcp") return send(res, 404, { error: "not found: use /mcp, / or /healthz" });
    if (who.role === "viewer")
      return send(res, 403, { error: "a viewer token may only read the status page" });
    if (closing) return send(res, 503, { error: "the server is shutting down" });
    if (req.method !== "POST")
      return send(res, 405, { error: "stateless MCP endpoint: POST JSON-RPC requests" });
    const body = await readJson(req);
    if (body === undefined) return send(res, 400, { error: "the body is not JSON (at most 4 MB)" });
    const ws = workspaceFor({ worker: who.worker, role: who.role });
    const { server: mcp } = createServer({ workspace: ws, logger });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: false,
    });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  /** One rendering serves every viewer for a few seconds: each refresh judges every branch's gate. */
  let page: { at: number; html: Promise<string> } | null = null;
  async function statusPage(res: ServerResponse): Promise<void> {
    const refresh = options.refreshSeconds ?? 15;
    if (!page || Date.now() - page.at > (refresh * 1000) / 3) {
      const ws = workspaceFor({ worker: "status-page", role: "head" });
      page = { at: Date.now(), html: pageData(ws).then((data) => renderStatusPage(data, refresh)) };
      page.html.catch(() => {
        page = null;
      });
    }
    const html = await page.html;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(html);
  }

  // Keep idle connections longer than clients do (undici keeps them 4 s by default, and reuses one
  // the server is closing at 5 s: a POST on it fails with ECONNRESET, which a busy machine makes common).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  logger.info({ url }, "serving MCP over HTTP at /mcp, the status page at /");

  return {
    url,
    async close() {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + 30_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      server.closeAllConnections();
      await stopped;
      for (const ws of workspaces.values()) {
        await ws.interruptJobs();
        await ws.close();
      }
    },
  };
}

function unauthorized(res: ServerResponse): void {
  res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="mai-gate"' });
  res.end(JSON.stringify({ error: "a valid bearer token is required (Authorization: Bearer <token>)" }));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
