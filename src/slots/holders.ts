import type { CatalogEntry } from "../migrations/catalog.js";
import { sameMigrationName } from "../prod/history.js";
import type { LeaseRow } from "../store/types.js";
import type { RepoState } from "./sources.js";

/** Something that holds a migration version: a file on main or a branch, production's row, a lease. */
export type Holder =
  | { source: "main"; name: string; file: string }
  | { source: "branch"; name: string; file: string; ref: string }
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
  const main = state.main.catalog.maxVersion;
  const production = state.production.status === "checked" ? state.production.history.maxVersion : null;
  const added = [...state.branchAdds.keys()];
  const branches = added.length > 0 ? Math.max(...added) : null;
  const above: TakenSummary["branchAboveMain"] = [];
  for (const version of added) {
    if (version <= (main ?? -1)) continue;
    for (const { ref, entry } of state.branchAdds.get(version)!)
      above.push({ version, name: entry.name, ref });
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
  for (const e of forward(state.main.catalog.byVersion.get(version))) {
    out.push({ source: "main", name: e.name, file: e.file });
  }
  if (state.production.status === "checked") {
    const row = state.production.history.rows.find((r) => r.version === version);
    if (row) out.push({ source: "production", name: row.name });
  }
  for (const { ref, entry } of state.branchAdds.get(version) ?? []) {
    out.push({ source: "branch", name: entry.name, file: entry.file, ref });
  }
  return out;
}

function forward(entries: CatalogEntry[] | undefined): CatalogEntry[] {
  return (entries ?? []).filter((e) => e.direction !== "down");
}

/** Whether two holders disagree on the name (null names — formats that store none — never disagree). */
export function namesDiffer(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && !sameMigrationName(a, b);
}

export function describeHolder(h: Holder): string {
  switch (h.source) {
    case "main":
      return `main has ${h.file}`;
    case "branch":
      return `${h.ref} has ${h.file}`;
    case "production":
      return `production's history has ${h.name === null ? "it (no name recorded)" : `"${h.name}"`}`;
    case "lease":
      return `lease ${h.leaseId} of ${h.worker} ("${h.name}")`;
  }
}
