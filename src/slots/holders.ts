import { type Catalog, holdings } from "../migrations/catalog.js";
import { appliedVersions, sameMigrationName } from "../prod/history.js";
import type { RepoState } from "../repo/state.js";
import type { LeaseRow } from "../store/types.js";

/**
 * Something that holds a migration version: a file on main or a branch, production's row, a lease.
 * A file's name is null when the layout cannot read it (`057.sql`): it clashes with every name.
 */
export type Holder =
  | { source: "main"; name: string | null; file: string; oid: string | null }
  | { source: "branch"; name: string | null; file: string; ref: string; oid: string | null }
  | { source: "production"; name: string | null }
  | { source: "lease"; name: string; leaseId: string; worker: string };

/** The largest version held by each source, and overall. */
export interface TakenSummary {
  max: number;
  main: number | null;
  production: number | null;
  branches: number | null;
  leases: number | null;
  /** Branch files above main's maximum: versions that would not be visible from main alone. */
  branchAboveMain: { version: number; name: string; ref: string }[];
}

export function summarizeTaken(state: RepoState, open: LeaseRow[]): TakenSummary {
  const main = state.main.catalog.maxTaken;
  const production = state.production.status === "checked" ? state.production.history.maxVersion : null;
  const added = [...state.branchAdds.keys()];
  const branches = added.length > 0 ? Math.max(...added) : null;
  const above: TakenSummary["branchAboveMain"] = [];
  for (const version of added) {
    if (version <= (main ?? -1)) continue;
    for (const { ref, entry } of state.branchAdds.get(version)!)
      above.push({ version, name: entry.name ?? entry.file, ref });
  }
  const leases = open.length > 0 ? Math.max(...open.map((l) => l.version)) : null;
  above.sort((a, b) => b.version - a.version);
  return {
    max: Math.max(0, main ?? 0, production ?? 0, branches ?? 0, leases ?? 0),
    main,
    production,
    branches,
    leases,
    branchAboveMain: above,
  };
}

/** Every holder of `version` outside the lease table. */
export function holdersOf(state: RepoState, version: number): Holder[] {
  const out: Holder[] = [];
  for (const h of mainHoldings(state.main.catalog).get(version) ?? []) {
    out.push({ source: "main", name: h.name, file: h.file, oid: h.oid ?? null });
  }
  if (state.production.status === "checked") {
    const history = state.production.history;
    const rows = history.rows.filter((r) => r.version === version);
    for (const row of rows) out.push({ source: "production", name: row.name });
    // golang-migrate keeps one row: every version up to it counts as applied (with no name).
    if (rows.length === 0 && appliedVersions(history)(version))
      out.push({ source: "production", name: null });
  }
  for (const { ref, entry } of state.branchAdds.get(version) ?? []) {
    out.push({ source: "branch", name: entry.name, file: entry.file, ref, oid: entry.oid ?? null });
  }
  return out;
}

const byVersionCache = new WeakMap<Catalog, Map<number, ReturnType<typeof holdings>>>();

/** Main's holdings by version (forward files and numbered unparseable files), memoised per catalog. */
function mainHoldings(catalog: Catalog): Map<number, ReturnType<typeof holdings>> {
  let map = byVersionCache.get(catalog);
  if (!map) {
    map = new Map();
    for (const h of holdings(catalog)) {
      const list = map.get(h.version);
      if (list) list.push(h);
      else map.set(h.version, [h]);
    }
    byVersionCache.set(catalog, map);
  }
  return map;
}

/** A file with the lease's version and name is on main or a branch: past its TTL, the lease still holds. */
export function heldByGit(state: RepoState, lease: LeaseRow): boolean {
  return holdersOf(state, lease.version).some(
    (h) => (h.source === "main" || h.source === "branch") && !namesDiffer(h.name, lease.name),
  );
}

/** Whether two holders disagree on the name (null names — formats that store none — never disagree). */
export function namesDiffer(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && !sameMigrationName(a, b);
}

/**
 * Whether a file clashes with a holder of the same version: different names, or either side is a
 * file the layout cannot read (its name cannot be compared, so it is a clash).
 */
export function fileClashes(file: { name: string | null }, holder: Holder): boolean {
  const unreadable = (h: Holder) => (h.source === "main" || h.source === "branch") && h.name === null;
  if (file.name === null || unreadable(holder)) return true;
  return namesDiffer(holder.name, file.name);
}

export function describeHolder(h: Holder): string {
  switch (h.source) {
    case "main":
      return `main has ${h.file}${h.name === null ? " (a name the layout cannot read)" : ""}`;
    case "branch":
      return `${h.ref} has ${h.file}${h.name === null ? " (a name the layout cannot read)" : ""}`;
    case "production":
      return `production's history has ${h.name === null ? "it (no name recorded)" : `"${h.name}"`}`;
    case "lease":
      return `lease ${h.leaseId} of ${h.worker} ("${h.name}")`;
  }
}
