import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the fake server saw: method, path with query, headers. */
export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
}

/** A canned answer; "hang" never answers. */
export type Reply = { status: number; json?: unknown; text?: string; type?: string } | "hang";

export interface LocalServer {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (port 0) that answers each request with `reply(request)`. */
export async function startServer(reply: (req: SeenRequest) => Reply): Promise<LocalServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const seen = {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", "http://local"),
      headers: req.headers,
    };
    requests.push(seen);
    send(res, reply(seen));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply === "hang") return;
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? "");
  const type =
    reply.type ?? (reply.json !== undefined ? "application/json;charset=utf-8" : "text/plain; charset=utf-8");
  res.writeHead(reply.status, { "content-type": type });
  res.end(body);
}

/**
 * An address where nothing listens, so connecting is refused at once: a port the OS just handed
 * out and released. (Port 1 will not do: fetch refuses it as a reserved "bad port".)
 */
export async function refusedUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
