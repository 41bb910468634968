import { ago, duration, short } from "../ages.js";
import { describeCondition } from "../gate/service.js";
import type { Review, ReviewedBranch, WorkerReview } from "../review/types.js";
import type { VersionMap } from "../review/version-map.js";

/** The head's desk on the status page: the version map, and each worker beside it. */

export const esc = (text: unknown): string =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

export const DESK_CSS = `
.next { font-size: 1.05rem; padding: .6rem .8rem; border-left: .3rem solid var(--bad); background: #cf222e14; margin: .75rem 0; }
.next.calm { border-color: var(--ok); background: #1a7f3714; }
body { max-width: 110rem; }
.desk { display: grid; gap: 0 1.5rem; grid-template-columns: minmax(0, 1fr); }
#workers { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); }
@media (min-width: 96rem) { .desk { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } #workers { grid-template-columns: minmax(0, 1fr); } }
.scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
#version-map { width: auto; font-size: .82rem; }
#version-map th, #version-map td { white-space: nowrap; text-align: center; border: 1px solid #8884; padding: .25rem .4rem; max-width: 10rem; overflow: hidden; text-overflow: ellipsis; }
#version-map th:first-child { position: sticky; left: 0; text-align: left; background: Canvas; z-index: 1; }
#version-map tbody th { text-transform: none; letter-spacing: 0; font-size: .82rem; color: inherit; font-weight: 600; }
#version-map td.bad { background: var(--bad); color: #fff; font-weight: 600; }
#version-map td.empty { color: var(--muted); }
#version-map thead { display: table-header-group; }
#version-map tr { display: table-row; border: 0; padding: 0; }
#version-map td, #version-map th { display: table-cell; }
td[data-label="branch"] code { word-break: normal; white-space: nowrap; }
.worker { border: 1px solid #8884; border-radius: .5rem; padding: .5rem .7rem; }
.worker h3 { font-size: 1rem; margin: 0 0 .25rem; }
.worker p { margin: .2rem 0; overflow-wrap: anywhere; }
.stale, .moved { background: var(--bad); }
.fresh, .at-tip { background: var(--ok); }
.never, .unpushed { background: var(--warn); }`;

export function nextLine(next: string): string {
  const calm = next.startsWith("nothing");
  return `<p class="next${calm ? " calm" : ""}" id="next"><strong>Next:</strong> ${esc(next)}</p>`;
}

export function versionMapSection(map: VersionMap | { error: string }): string {
  if ("error" in map) return `<h2>Versions</h2><p class="error">${esc(map.error)}</p>`;
  const head = map.versions.map((v) => `<th scope="col">${v}</th>`).join("");
  const rows = map.rows
    .map((row) => {
      const cells = map.versions
        .map((v) => {
          const c = row.cells.get(v);
          if (!c) return `<td class="empty" data-version="${v}">·</td>`;
          const title = ` title="${esc(c.why ? `${c.text}: ${c.why}` : c.text)}"`;
          return `<td data-version="${v}"${c.bad ? ' class="bad"' : ""}${title}>${esc(c.text)}</td>`;
        })
        .join("");
      return `<tr data-source="${esc(row.source)}"><th scope="row">${esc(row.source)}</th>${cells}</tr>`;
    })
    .join("\n");
  const omitted = map.omitted > 0 ? ` (${map.omitted} older versions left out)` : "";
  return `<h2>Versions <span class="muted">who holds each version; red: names disagree, or a file has no lease${omitted}</span></h2>
<div class="scroll"><table id="version-map"><thead><tr><th scope="col">source</th>${head}</tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

export function workersSection(review: Review | { error: string }): string {
  if ("error" in review) return `<h2>Workers</h2><p class="error">${esc(review.error)}</p>`;
  const cards = review.workers.map((w) => workerCard(w, review.now)).join("\n");
  return `<h2>Workers <span class="muted">stale after ${review.settings.staleHours} h unpushed, ${review.settings.silentHours} h silent</span></h2>
<div id="workers">${cards || `<p class="muted">no worker branches or leases</p>`}</div>`;
}

function workerCard(w: WorkerReview, now: number): string {
  const stale =
    w.stale.length > 0
      ? `<span class="badge stale">stale: ${esc(w.stale.map((f) => f.rule).join(", "))}</span>`
      : `<span class="badge fresh">ok</span>`;
  const why = w.stale.map((f) => `<p class="muted">${esc(f.rule)}: ${esc(f.detail)}</p>`).join("");
  const branches = w.branches.map((b) => branchLine(b, now)).join("");
  const leases =
    w.leases.length === 0
      ? ""
      : `<p>leases: ${w.leases.map((l) => `${l.lease.version} ${esc(l.lease.name)} (${esc(l.state)}, ${duration(l.ageMs)})`).join("; ")}</p>`;
  const blame = w.blame.map((b) => `<p class="error">move: ${esc(b.message)}</p>`).join("");
  return `<div class="worker" data-worker="${esc(w.worker)}"><h3>${esc(w.worker)} ${stale}</h3>${why}${branches}${leases}${blame}
<p class="muted">next: ${esc(w.next)}</p></div>`;
}

const PUSH: Record<ReviewedBranch["tip"]["push"], [string, string]> = {
  pushed: ["pushed", "fresh"],
  never_pushed: ["never pushed", "never"],
  unpushed_commits: ["unpushed commits", "unpushed"],
  diverged: ["diverged", "unpushed"],
};

function branchLine(b: ReviewedBranch, now: number): string {
  const t = b.tip;
  const [push, cls] = PUSH[t.push];
  const gate =
    "error" in b.gate
      ? `gate unknown (${esc(b.gate.error)})`
      : b.gate.green
        ? `<span class="badge green">gate green</span>`
        : `<span class="badge red">gate red</span> ${esc(b.gate.unmet[0] ? describeCondition(b.gate.unmet[0]).split(". Fix:")[0] : "")}`;
  const c = b.completion;
  const done = c
    ? ` · completion ${esc(short(c.record.head))} ${ago(now - c.record.createdAt)}: <span class="badge ${c.atTip ? "at-tip" : "moved"}">${esc(c.status)}</span>`
    : "";
  return `<p data-branch="${esc(t.branch)}"><code>${esc(t.branch)}</code> <code>${esc(short(t.tip))}</code> <span class="badge ${cls}">${esc(push)}</span> · ${t.ahead} ahead · last commit ${ago(now - t.committedAt)} · ${gate}${done}</p>`;
}
