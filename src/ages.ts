/** Ages in words, the same everywhere a person reads them (tools, CLI, status page). */

/** "45 s", "12 min", "5 h", "4 d". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 2 * 3600) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** "12 min ago"; "just now" under a minute. */
export function ago(ms: number): string {
  return ms < 60_000 ? "just now" : `${duration(ms)} ago`;
}

/** A sha as people read it: its first 7 hex digits. */
export function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "?";
}
