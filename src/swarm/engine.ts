/**
 * A small client of the Docker Engine HTTP API (the documented REST API the docker CLI speaks),
 * over node:http: a unix socket, or TCP with TLS. Read-only GETs, each bounded in time and body size.
 * Requests name API version 1.41 (Docker 20.10), which every engine since accepts.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { type RequestOptions as HttpsRequestOptions, request as httpsRequest } from "node:https";
import { SourceError } from "../deploy/errors.js";
import { asRecord, serverMessage } from "../deploy/json.js";

export const SOURCE = "docker";
export const API_VERSION = "v1.41";
/** Bodies are read up to this size; a bigger answer is an error, not a truncated JSON. */
export const MAX_ENGINE_BYTES = 4 * 1024 * 1024;

/** PEM text (usually from `env:` values) for a `tcp://` engine. */
export interface EngineTls {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

export type EngineTarget =
  | { kind: "unix"; socketPath: string; label: string }
  | { kind: "tcp"; host: string; port: number; tls: EngineTls | null; label: string };

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** `deploy.docker` as a target, or a SourceError that names the key and what to write. */
export function engineTarget(endpoint: string, tls: EngineTls | undefined): EngineTarget {
  const raw = endpoint.trim();
  const bad = (why: string) =>
    new SourceError(
      SOURCE,
      `docker: deploy.docker ${why}`,
      "Set deploy.docker to unix:///var/run/docker.sock (on the Swarm manager) or tcp://manager:2376 with deploy.docker_tls.",
    );
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length);
    if (!socketPath.startsWith("/"))
      throw bad(`is ${JSON.stringify(raw)}: a unix socket needs an absolute path`);
    return { kind: "unix", socketPath, label: raw };
  }
  if (!raw.startsWith("tcp://")) throw bad(`is ${JSON.stringify(raw)}, neither unix:// nor tcp://`);
  let url: URL;
  try {
    url = new URL(raw.replace(/^tcp:/, "http:"));
  } catch {
    throw bad(`is ${JSON.stringify(raw)}, not a tcp://host:port address`);
  }
  const port = Number(url.port || "2376");
  const material = tls && (tls.ca || tls.cert || tls.key) ? tls : null;
  if (!material && !LOOPBACK.has(url.hostname))
    throw new SourceError(
      SOURCE,
      `docker: ${raw} without TLS: the Docker API gives root on the host to whoever reaches it`,
      "Set deploy.docker_tls { ca, cert, key } to env: values holding the PEM text (as for `docker --tlsverify`), or use a unix socket.",
    );
  if (material && !material.cert !== !material.key)
    throw new SourceError(
      SOURCE,
      "docker: deploy.docker_tls needs both cert and key (or neither)",
      "Set deploy.docker_tls.cert and .key to env: values holding the client certificate and its key.",
    );
  return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port, tls: material, label: raw };
}

export interface EngineAnswer {
  status: number;
  /** Parsed JSON when the body is JSON, else undefined. */
  json: unknown;
  body: Buffer;
}

/** GET `/v1.41{path}`. Resolves for any HTTP status; throws a SourceError when no answer came. */
export function engineGet(
  target: EngineTarget,
  path: string,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<EngineAnswer> {
  const request = target.kind === "tcp" && target.tls ? httpsRequest : httpRequest;
  const base: HttpsRequestOptions =
    target.kind === "unix"
      ? { socketPath: target.socketPath }
      : { host: target.host, port: target.port, ...tlsOptions(target.tls) };
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(transportError(target, options.timeoutMs, err));
    const req = request(
      {
        ...base,
        method: "GET",
        path: `/${API_VERSION}${path}`,
        // Over a socket the host name is a formality; over TCP it is the address (and TLS checks it).
        headers: target.kind === "unix" ? { Host: "docker", Accept: "*/*" } : { Accept: "*/*" },
      },
      (res) => readAnswer(res).then(resolve, fail),
    );
    const timer = setTimeout(() => req.destroy(new EngineTimeout()), options.timeoutMs);
    const onAbort = () => req.destroy(new Error("cancelled"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", fail);
    req.on("close", () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    });
    req.end();
  });
}

class EngineTimeout extends Error {}

function tlsOptions(tls: EngineTls | null): HttpsRequestOptions {
  if (!tls) return {};
  const pem = (value: string | undefined) => (value ? pemText(value) : undefined);
  return { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key) };
}

/** PEM text as given, or the file it names (a path such as `$DOCKER_CERT_PATH/ca.pem`). */
function pemText(value: string): string {
  return value.includes("-----BEGIN") ? value : readFileSync(value, "utf8");
}

function readAnswer(res: IncomingMessage): Promise<EngineAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ENGINE_BYTES) {
        res.destroy(new Error(`the answer is over ${MAX_ENGINE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on("error", reject);
    res.on("end", () => {
      const body = Buffer.concat(chunks);
      const type = String(res.headers["content-type"] ?? "");
      let json: unknown;
      if (/json/i.test(type)) {
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          json = undefined;
        }
      }
      resolve({ status: res.statusCode ?? 0, json, body });
    });
  });
}

function transportError(target: EngineTarget, timeoutMs: number, err: unknown): SourceError {
  const code = (err as { code?: unknown } | null)?.code;
  const where = target.label;
  const make = (detail: string, hint: string) =>
    new SourceError(SOURCE, `docker: ${detail}`, hint, { cause: err });
  if (err instanceof EngineTimeout)
    return make(
      `${where} did not answer within ${timeoutMs} ms`,
      "Check that dockerd is running and not overloaded.",
    );
  if (err instanceof Error && err.message === "cancelled") return make("request cancelled", "");
  if (code === "ENOENT")
    return make(
      `no socket at ${where}`,
      "Check deploy.docker: run mai-gate where the Swarm manager's socket is (or mount it).",
    );
  if (code === "EACCES")
    return make(
      `permission denied on ${where}`,
      "Run mai-gate as a user in the docker group, or point deploy.docker at a socket it may read.",
    );
  if (code === "ECONNREFUSED")
    return make(`connection refused (${where})`, "Check that dockerd is running and listens there.");
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === "string" && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))
    return make(
      `TLS error talking to ${where} (${code})`,
      "Check deploy.docker_tls: the CA must sign the engine's certificate.",
    );
  return make(`request to ${where} failed: ${message}`, "Check deploy.docker and that dockerd is running.");
}

/** The JSON of a 2xx answer; a SourceError saying what the engine refused otherwise. */
export function expectJson(answer: EngineAnswer, what: string, notFoundHint: string): unknown {
  if (answer.status >= 200 && answer.status < 300 && answer.json !== undefined) return answer.json;
  const said = serverMessage(answer.json) ?? answer.body.toString("utf8").slice(0, 160).trim();
  const suffix = said ? `: ${said}` : "";
  if (answer.status === 404)
    throw new SourceError(SOURCE, `docker: ${what} not found${suffix}`, notFoundHint);
  if (answer.status === 503 && /swarm/i.test(said))
    throw new SourceError(
      SOURCE,
      `docker: the engine is not a Swarm manager${suffix}`,
      "Point deploy.docker at a manager node of the Swarm (docker node ls works there).",
    );
  if (answer.status >= 200 && answer.status < 300)
    throw new SourceError(
      SOURCE,
      `docker: ${what}: the engine did not answer JSON`,
      "Check that deploy.docker is a Docker Engine.",
    );
  throw new SourceError(
    SOURCE,
    `docker: ${what}: HTTP ${answer.status}${suffix}`,
    "Check deploy.docker and the engine's logs.",
  );
}

/** `GET /version`: the engine's version and API version, for `mai-gate doctor`. */
export async function engineVersion(
  target: EngineTarget,
  timeoutMs: number,
): Promise<{ version: string; apiVersion: string }> {
  const json = asRecord(expectJson(await engineGet(target, "/version", { timeoutMs }), "version", ""));
  return { version: String(json?.Version ?? "?"), apiVersion: String(json?.ApiVersion ?? "?") };
}
