import { performance } from "node:perf_hooks";
import { SourceError } from "./errors.js";

/** One HTTP answer. Non-2xx statuses are answers too: `httpGet` only throws when there is none. */
export interface HttpResult {
  status: number;
  ok: boolean;
  /** The body as text, at most `MAX_BODY_BYTES` of it. */
  text: string;
  /** The parsed body when it is (or looks like) JSON and parses; otherwise undefined. */
  json: unknown | undefined;
  /** Time from sending the request to the end of the (bounded) body. */
  ms: number;
}

/** Bodies are read up to this size; the rest is dropped. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Why no answer came back. */
export type TransportFailure =
  | "timeout"
  | "cancelled"
  | "refused"
  | "dns"
  | "reset"
  | "unreachable"
  | "tls"
  | "network";

/** No HTTP answer at all: the request timed out, was cancelled, or never reached a server. */
export class TransportError extends SourceError {
  constructor(
    source: string,
    readonly kind: TransportFailure,
    /** The failure without the source prefix, e.g. "connection refused (127.0.0.1:1)". */
    readonly detail: string,
    hint: string | null,
    cause: unknown,
  ) {
    super(source, `${source}: ${detail}`, hint, { cause });
  }
}

/** Hide `user:password@` in a URL that is about to be shown. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^/@\s]*@/, "//***@");
}

/**
 * Parse a configured http(s) URL, or throw a SourceError naming the config key.
 * Never echoes credentials embedded in the URL.
 */
export function parseHttpUrl(source: string, key: string | null, raw: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(raw.trim());
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    const shown = raw.trim() === "" ? "(empty)" : `"${redactUrl(raw.trim())}"`;
    const what = key ? `${key} is` : "the URL is";
    throw new SourceError(
      source,
      `${source}: ${what} not a valid http(s) URL: ${shown}`,
      `Set ${key ?? "the URL"} to a full address, e.g. https://host.example.com`,
    );
  }
  return url;
}

/**
 * GET `url`, bounded by `timeoutMs` (and the caller's signal). Resolves for any HTTP status;
 * throws a SourceError for a malformed URL and a TransportError when no answer arrives.
 * `redirect: "manual"` keeps credentials from following a redirect to another host.
 */
export async function httpGet(
  source: string,
  url: string,
  options: {
    headers?: Record<string, string>;
    timeoutMs: number;
    signal?: AbortSignal;
    redirect?: "follow" | "manual";
  },
): Promise<HttpResult> {
  const target = parseHttpUrl(source, null, url);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const started = performance.now();
  try {
    const res = await fetch(target, {
      headers: options.headers,
      signal,
      redirect: options.redirect ?? "follow",
    });
    const text = await readBounded(res);
    const ms = Math.round(performance.now() - started);
    const type = res.headers.get("content-type") ?? "";
    return { status: res.status, ok: res.ok, text, json: parseJson(type, text), ms };
  } catch (err) {
    const kind = timeout.aborted ? "timeout" : options.signal?.aborted ? "cancelled" : undefined;
    throw transportError(source, target, options.timeoutMs, kind, err);
  }
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = MAX_BODY_BYTES - size;
    if (value.byteLength >= room) {
      chunks.push(value.subarray(0, room));
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function parseJson(contentType: string, text: string): unknown | undefined {
  const trimmed = text.trim();
  const looksJson = trimmed.startsWith("{") || trimmed.startsWith("[");
  if (!/\bjson\b/i.test(contentType) && !looksJson) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** The error codes of `err` and its causes (undici wraps the socket error in `cause`). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (!(err instanceof Error) || depth > 5) return [];
  const own = (err as { code?: unknown }).code;
  const codes = typeof own === "string" ? [own] : [];
  const nested = err instanceof AggregateError ? err.errors : [];
  for (const inner of [err.cause, ...nested]) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

function innermostMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function transportError(
  source: string,
  url: URL,
  timeoutMs: number,
  aborted: "timeout" | "cancelled" | undefined,
  err: unknown,
): TransportError {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const where = `${url.hostname}:${port}`;
  const check = `Check that ${url.origin} is the right address and that the service is running.`;
  const fail = (kind: TransportFailure, detail: string, hint: string | null = check) =>
    new TransportError(source, kind, detail, hint, err);
  if (aborted === "timeout")
    return fail(
      "timeout",
      `request timed out after ${timeoutMs} ms`,
      `${url.origin} did not answer in time.`,
    );
  if (aborted === "cancelled") return fail("cancelled", "request cancelled", null);
  const codes = errorCodes(err);
  const has = (...wanted: string[]) => codes.some((c) => wanted.includes(c));
  if (has("ECONNREFUSED")) return fail("refused", `connection refused (${where})`);
  if (has("ENOTFOUND", "EAI_AGAIN", "EAI_NONAME"))
    return fail("dns", `cannot resolve host ${url.hostname}`, `Check the host name in ${url.origin}.`);
  if (has("ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"))
    return fail("timeout", `connection to ${where} timed out`);
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"))
    return fail("reset", `connection to ${where} was closed before an answer`);
  if (has("EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"))
    return fail("unreachable", `host ${where} is unreachable`);
  if (innermostMessage(err) === "bad port")
    return fail("network", `port ${port} is blocked by fetch (a reserved port)`, "Serve it on another port.");
  const tls = codes.find((c) => /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(c));
  if (tls)
    return fail(
      "tls",
      `TLS error talking to ${where} (${tls})`,
      "Check the server's certificate or use the right scheme.",
    );
  return fail("network", `request to ${where} failed: ${innermostMessage(err)}`);
}
