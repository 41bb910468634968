import { holdings } from "../migrations/catalog.js";
import type { RepoState } from "../repo/state.js";
import { namesDiffer } from "../slots/holders.js";
import { shortBranch } from "../slots/rules.js";
import type { LeaseRow } from "../store/types.js";

/**
 * Who holds each version, by source: production, main, each branch (its local and origin copies
 * as one row), the open leases. The versions shown run from just below main's maximum to the
 * highest taken, plus any lower version whose holders disagree. A cell is bad where its name
 * disagrees with the rightful one (production's, else main's, else the lease's) or where a branch
 * file above main has no lease. Pure: a function of the repository state and the open leases.
 */
export interface MapCell {
  /** What the cell shows: the migration's name (a lease: "worker: name"). */
  text: string;
  bad: boolean;
  /** Why it is bad, for the tooltip and the reader. */
  why: string | null;
}

export interface MapRow {
  source: string;
  kind: "production" | "main" | "branch" | "leases";
  cells: Map<number, MapCell>;
}

export interface VersionMap {
  versions: number[];
  rows: MapRow[];
  /** Versions beyond the cap, left out (the newest and every disagreement are kept). */
  omitted: number;
}

const BELOW_MAIN = 2;
const MAX_COLUMNS = 24;

type Entry = { name: string | null; text: string; file?: string };

export function versionMap(state: RepoState, open: LeaseRow[]): VersionMap {
  const production = new Map<number, Entry>();
  if (state.production.status === "checked")
    for (const r of state.production.history.rows)
      production.set(r.version, { name: r.name, text: r.name ?? "(applied)" });
  const main = new Map<number, Entry>();
  for (const h of holdings(state.main.catalog))
    main.set(h.version, { name: h.name, text: h.name ?? h.file, file: h.file });
  const branches = new Map<string, Map<number, Entry>>();
  for (const [version, adds] of state.branchAdds)
    for (const { ref, entry } of adds) {
      const row = branches.get(shortBranch(ref)) ?? new Map<number, Entry>();
      if (!row.has(version) || ref.startsWith("origin/"))
        row.set(version, { name: entry.name, text: entry.name ?? entry.file, file: entry.file });
      branches.set(shortBranch(ref), row);
    }
  const leases = new Map<number, Entry & { lease: LeaseRow }>();
  for (const l of open) leases.set(l.version, { name: l.name, text: `${l.worker}: ${l.name}`, lease: l });

  const mainMax = state.main.catalog.maxVersion ?? 0;
  const all = new Set<number>([...production.keys(), ...main.keys(), ...leases.keys()]);
  for (const row of branches.values()) for (const v of row.keys()) all.add(v);
  const rightful = (v: number) => production.get(v)?.name ?? main.get(v)?.name ?? leases.get(v)?.name ?? null;
  const holders = (v: number): (string | null)[] => [
    production.get(v)?.name ?? null,
    main.get(v)?.name ?? null,
    leases.get(v)?.name ?? null,
    ...[...branches.values()].map((row) => row.get(v)?.name ?? null),
  ];
  const disagree = (v: number) => {
    const names = holders(v).filter((n): n is string => n !== null);
    return names.some((n) => names.some((m) => namesDiffer(n, m)));
  };
  const near = [...all].filter((v) => v >= mainMax - BELOW_MAIN);
  const odd = [...all].filter((v) => v < mainMax - BELOW_MAIN && disagree(v));
  let versions = [...new Set([...odd, ...near])].sort((a, b) => a - b);
  const omitted = Math.max(0, versions.length - MAX_COLUMNS);
  if (omitted > 0)
    versions = [...odd, ...near.sort((a, b) => a - b).slice(-(MAX_COLUMNS - odd.length))].sort(
      (a, b) => a - b,
    );

  const splitFromMain = (v: number) => {
    const p = production.get(v);
    const m = main.get(v);
    return p !== undefined && m !== undefined && namesDiffer(p.name, m.name ?? `file:${m.file}`);
  };
  const cell = (v: number, kind: MapRow["kind"], e: Entry | undefined, unleased: boolean): MapCell | null => {
    if (!e) return null;
    const right = rightful(v);
    const why =
      (kind === "production" || kind === "main") && splitFromMain(v)
        ? "main and production disagree: the next deploy will crash-loop"
        : right !== null && (e.name === null || namesDiffer(e.name, right))
          ? `names disagree: "${right}" holds this version`
          : unleased
            ? "a file with no lease"
            : null;
    return { text: e.text, bad: why !== null, why };
  };
  const row = (
    source: string,
    kind: MapRow["kind"],
    entries: Map<number, Entry>,
    leased?: boolean,
  ): MapRow => {
    const cells = new Map<number, MapCell>();
    for (const v of versions) {
      const e = entries.get(v);
      const unleased =
        leased === false &&
        e !== undefined &&
        v > mainMax &&
        !open.some((l) => l.version === v && !namesDiffer(l.name, e.name));
      const c = cell(v, kind, e, unleased);
      if (c) cells.set(v, c);
    }
    return { source, kind, cells };
  };
  const rows = [
    row("production", "production", production),
    row("main", "main", main),
    ...[...branches.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([b, entries]) => row(b, "branch", entries, false)),
    row("open leases", "leases", leases),
  ];
  return { versions, rows, omitted };
}
