import { httpGet, parseHttpUrl, TransportError } from "./http.js";
import { resolvePointer } from "./json.js";

/**
 * What is live: the health endpoint's answer. The site being down is a finding, not an error:
 * only a malformed URL (or the caller cancelling) throws.
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
  /** The HTTP status, or null when no answer came back. */
  status: number | null;
  latencyMs: number | null;
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

export async function checkHealth(
  cfg: HealthConfig,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<HealthReport> {
  const url = parseHttpUrl("health", "deploy.health_url", cfg.url);
  let res: Awaited<ReturnType<typeof httpGet>>;
  try {
    res = await httpGet("health", url.href, { ...options, headers: { Accept: "application/json" } });
  } catch (err) {
    if (err instanceof TransportError && err.kind !== "cancelled")
      return { up: false, status: null, latencyMs: null, sha: null, schemaVersion: null, reason: err.detail };
    throw err;
  }
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
