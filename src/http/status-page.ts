import { duration } from "../ages.js";
import type { DeployStatus } from "../deploy/report.js";
import { smokeLine } from "../deploy/smoke-line.js";
import type { ListResult } from "../slots/list.js";
import { DESK_CSS, esc, nextLine, versionMapSection, workersSection } from "./desk-sections.js";
import type { PageData } from "./status-data.js";

const MAX_LEASE_ROWS = 100;

const CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 1rem; max-width: 72rem; }
h1 { font-size: 1.35rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); font-size: .85rem; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-weight: 600; font-size: .85rem; color: #fff; }
.healthy, .active, .merged, .applied, .green { background: var(--ok); }
.deploying, .expired, .released, .revoked { background: var(--warn); }
.degraded, .down, .conflicted, .red { background: var(--bad); }
.unknown { background: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid #8884; vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
code { font-size: .85em; word-break: break-all; }
ul { margin: .25rem 0; padding-left: 1.1rem; }
.error { color: var(--bad); }
@media (max-width: 40rem) {
  thead { display: none; }
  tr { display: block; border-bottom: 1px solid #8884; padding: .4rem 0; }
  td { display: block; border: 0; padding: .1rem 0; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: .8rem; }
}${DESK_CSS}`;

/** The status page: server-rendered HTML that refreshes itself and reads on a laptop and a phone. */
export function renderStatusPage(data: PageData, refreshSeconds: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refreshSeconds}">
<title>mai-gate status</title><style>${CSS}</style></head>
<body>
<h1>mai-gate</h1>
<p class="muted">Generated ${esc(new Date(data.generatedAt).toISOString())}; refreshes every ${refreshSeconds} s.</p>
${nextLine(data.next)}
${deploySection(data.deploy)}
<div class="desk"><section>${versionMapSection(data.map)}</section><section>${workersSection(data.review)}</section></div>
${leaseSection(data.leases)}
</body></html>`;
}

function deploySection(d: DeployStatus | { error: string }): string {
  if ("error" in d) return `<h2>Deploy</h2><p class="error">${esc(d.error)}</p>`;
  const smoke = d.smoke.data;
  const live = d.live.data;
  return `<h2>Deploy <span class="badge ${esc(d.verdict)}" id="verdict">${esc(d.verdict)}</span></h2>
<p>${esc(d.safeToMerge.why)}</p>
${d.cachedMs !== null ? `<p class="muted">as of ${d.cachedMs < 1000 ? "less than 1" : Math.round(d.cachedMs / 1000)} s ago (an answer shared with the workers)</p>` : ""}
<ul>${d.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
<p class="muted">main <code>${esc(d.main.sha.slice(0, 10))}</code> · CI ${esc(d.ci.data?.state ?? d.ci.status)} ·
live ${live ? `${live.up ? "up" : "DOWN"} <code>${esc(live.sha?.slice(0, 10) ?? "?")}</code>` : esc(d.live.status)}</p>
<p id="smoke">Smoke: ${d.smoke.status === "ok" ? esc(smokeLine(smoke)) : esc(d.smoke.error ?? d.smoke.status)}</p>`;
}

function leaseSection(l: ListResult | { error: string }): string {
  if ("error" in l) return `<h2>Leases</h2><p class="error">${esc(l.error)}</p>`;
  const shown = l.leases.slice(0, MAX_LEASE_ROWS);
  const rows = shown
    .map(
      ({ lease, state, conflicts, notes }) => `<tr>
<td data-label="version"><strong>${lease.version}</strong></td>
<td data-label="name">${esc(lease.name)}</td>
<td data-label="state"><span class="badge ${esc(state)}">${esc(state)}</span></td>
<td data-label="worker">${esc(lease.worker)}</td>
<td data-label="age">${duration(l.now - lease.createdAt)}</td>
<td data-label="branch"><code>${esc(lease.branch ?? "-")}</code></td>
<td data-label="notes">${[...conflicts.map((c) => c.message), ...notes].map(esc).join("<br>")}</td></tr>`,
    )
    .join("\n");
  const collisions = l.collisions.map((c) => `<li>${esc(c.message)}</li>`).join("");
  const more =
    l.leases.length > shown.length
      ? `<p class="muted">and ${l.leases.length - shown.length} more (newest shown): mai-gate leases lists all</p>`
      : "";
  return `<h2>Leases <span class="muted">${l.leases.length}</span></h2>
${collisions ? `<ul class="error">${collisions}</ul>` : ""}
<table id="leases"><thead><tr><th>Version</th><th>Name</th><th>State</th><th>Worker</th><th>Age</th><th>Branch</th><th>Conflicts and notes</th></tr></thead>
<tbody>${rows || `<tr><td colspan="7" class="muted">no open leases</td></tr>`}</tbody></table>${more}`;
}
