import { ago, short } from "../ages.js";
import type { SmokeReport } from "./report.js";

/** "passed 12 min ago on main abc1234 (live abc1234)", marked when stale. */
export function smokeLine(smoke: SmokeReport | null): string {
  if (!smoke) return "never run (the tester runs run_pre_push_suite with profile smoke)";
  const when =
    smoke.state === "running"
      ? `running (started ${ago(smoke.ageMs)})`
      : `${smoke.state} ${ago(smoke.ageMs)}`;
  const live = !smoke.live
    ? "live not checked: no deploy.health_url"
    : smoke.live.up === null
      ? `live unknown: ${smoke.live.error ?? "?"}`
      : smoke.live.up
        ? `live ${short(smoke.live.sha)}`
        : `live DOWN: ${smoke.live.error ?? "?"}`;
  const stale = smoke.stale ? ` — STALE (older than ${smoke.maxAgeMinutes} min)` : "";
  const moved = smoke.onMainHead ? "" : "; main moved since";
  return `${when} on main ${short(smoke.head)} (${live})${stale}${moved}`;
}
