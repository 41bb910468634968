/** Go-style durations as Docker reads them: "1m30s", "90s", "500ms", "1h", "1.5s". */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Milliseconds, or null when the text is not a duration. A compose interpolation with a default
 * (`${MONITOR:-90s}`) reads as its default; one without a default cannot be read.
 */
export function parseDuration(raw: unknown): number | null {
  if (typeof raw !== "string") return null;
  let text = raw.trim();
  const interpolated = /^\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}$/.exec(text);
  if (interpolated) text = (interpolated[1] ?? "").trim();
  if (text === "0") return 0;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return null;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : null;
}

/** Whole seconds as "90s" (Swarm reads any Go duration), anything finer as "500ms". */
export function formatDuration(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/** Nanoseconds (Docker's API and Dokploy's JSON) to milliseconds. */
export function nsToMs(ns: number): number {
  return ns / 1e6;
}

export function msToNs(ms: number): number {
  return Math.round(ms * 1e6);
}
