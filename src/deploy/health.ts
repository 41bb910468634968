import { httpGet, parseHttpUrl } from "./http.js";
import { resolvePointer } from "./json.js";

/**
 * What is live: the health endpoint's answer. An answer that is not ready (a 503, a proxy's 404)
 * is a finding, `up: false`, not an error. No answer at all (refused, timed out, reset, DNS, TLS)
 * throws a TransportError: from here a site that is down cannot be told apart from a broken path
 * to it, so the caller reports "cannot tell", not "down". A malformed URL throws a SourceError.
 */
export interface HealthConfig {
  url: string;
  /** RFC 6901 pointer to the deployed git sha in the JSON body; defaults to `SHA_POINTERS`. */
  shaPointer?: string | undefined;
  /** RFC 6901 pointer to the schema version in the JSON body; defaults to `SCHEMA_POINTERS`. */
  schemaPointer?: string | undefined;
}

export interface HealthReport {
  up: boolean;
  /** The HTTP status of the answer. */
  status: number;
  latencyMs: number;
  sha: string | null;
  schemaVersion: string | null;
  /** Why the site counts as down; null when up. */
  reason: string | null;
}

/** Tried in order when no sha pointer is configured. */
export const SHA_POINTERS = ["/git_sha", "/sha", "/commit", "/revision", "/version/sha", "/build/commit"];
/** Tried in order when no schema pointer is configured. */
export const SCHEMA_POINTERS = [
  "/schema_version",
  "/schema",
  "/migration_version",
  "/db/schema_version",
  "/db/version",
];

const TRAEFIK_404 = /^404 page not found$/i;

/** GET the health URL and read what it says (see HealthReport); throws when nothing answers. */
export async function checkHealth(
  cfg: HealthConfig,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<HealthReport> {
  const url = parseHttpUrl("health", "deploy.health_url", cfg.url);
  const res = await httpGet("health", url.href, { ...options, headers: { Accept: "application/json" } });
  return {
    up: res.ok,
    status: res.status,
    latencyMs: res.ms,
    sha: pick(res.json, cfg.shaPointer, SHA_POINTERS),
    schemaVersion: pick(res.json, cfg.schemaPointer, SCHEMA_POINTERS),
    reason: res.ok ? null : downReason(res.status, res.text),
  };
}

function downReason(status: number, text: string): string {
  if (status !== 404) return `HTTP ${status}`;
  if (TRAEFIK_404.test(text.trim()))
    return "HTTP 404 from the proxy: no healthy backend (Traefik's default 404)";
  return "HTTP 404: nothing answers at this path (a proxy with no route to the app, or the wrong health URL)";
}

/** The first pointer that names a non-empty string or a number; numbers become strings. */
function pick(json: unknown, configured: string | undefined, defaults: string[]): string | null {
  if (json === undefined) return null;
  for (const pointer of configured !== undefined ? [configured] : defaults) {
    const value = resolvePointer(json, pointer);
    if (typeof value === "string" && value.trim() !== "") return value.trim();
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return null;
}
