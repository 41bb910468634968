import type { RepoState } from "../repo/state.js";
import type { LeaseRow } from "../store/types.js";
import { describeHolder, fileClashes, type Holder, holdersOf, namesDiffer } from "./holders.js";

export const LEASE_STATES = ["active", "merged", "applied", "released", "expired", "conflicted"] as const;
export type LeaseState = (typeof LEASE_STATES)[number];

export interface LeaseConflict {
  where: "main" | "production" | "branch";
  ref: string | null;
  name: string | null;
  file: string | null;
  message: string;
}

export interface LeaseStatus {
  state: LeaseState;
  conflicts: LeaseConflict[];
  /** Other facts worth saying: moved, past TTL but still on a branch, production not checked. */
  notes: string[];
}

/**
 * A lease's state, computed against git and production now (never stored):
 * active → merged (its file is on main) → applied (in production's history); released or expired;
 * conflicted when main, production or another branch holds its version under a different name.
 */
export function leaseStatus(lease: LeaseRow, state: RepoState, now: number): LeaseStatus {
  const notes: string[] = [];
  if (lease.endedAt !== null) {
    if (lease.endReason === "moved") notes.push(`moved to lease ${lease.movedTo ?? "?"}`);
    if (lease.endNote) notes.push(`reason: ${lease.endNote}`);
    return { state: lease.endReason === "expired" ? "expired" : "released", conflicts: [], notes };
  }
  const holders = holdersOf(state, lease.version);
  const clashing = holders.filter((h) => fileClashes({ name: lease.name }, h));
  // A branch file on a leased version is that branch's fault (it has no lease): it must move, not the lease.
  for (const h of clashing.filter((c) => c.source === "branch"))
    notes.push(`${describeHolder(h)} on this version without a lease: that branch must reserve and rename`);
  const conflicts = clashing.filter((h) => h.source !== "branch").map((h) => toConflict(h, lease));
  if (!lease.prodChecked && state.production.status !== "checked") {
    notes.push("production was not checked when this lease was made, and cannot be checked now");
  }
  if (conflicts.length > 0) return { state: "conflicted", conflicts, notes };
  const sameName = (h: Holder) => !namesDiffer(h.name, lease.name);
  if (holders.some((h) => h.source === "production" && sameName(h)))
    return { state: "applied", conflicts, notes };
  if (holders.some((h) => h.source === "main" && sameName(h))) return { state: "merged", conflicts, notes };
  if (lease.expiresAt <= now) {
    if (holders.some((h) => h.source === "branch")) notes.push("past its TTL, but its file is on a branch");
    else return { state: "expired", conflicts, notes };
  }
  return { state: "active", conflicts, notes };
}

function toConflict(h: Holder, lease: LeaseRow): LeaseConflict {
  const where = h.source === "lease" ? "branch" : h.source;
  const verdict =
    h.source === "branch"
      ? "both cannot merge: the second to deploy will crash-loop"
      : "the app's migrator will refuse this file and the container will crash-loop";
  return {
    where,
    ref: h.source === "branch" ? h.ref : null,
    name: h.name,
    file: h.source === "main" || h.source === "branch" ? h.file : null,
    message: `version ${lease.version} is leased as "${lease.name}" but ${describeHolder(h)}: ${verdict}`,
  };
}

/** One version held under more than one name across main, production and branches. */
export interface Collision {
  version: number;
  holders: { name: string | null; where: string }[];
  message: string;
}

/** Versions that main, production and the branches disagree on: the first outage, before it deploys. */
export function findCollisions(state: RepoState): Collision[] {
  const versions = new Set<number>(state.branchAdds.keys());
  for (const v of state.main.catalog.byVersion.keys()) versions.add(v);
  const out: Collision[] = [];
  for (const version of [...versions].sort((a, b) => a - b)) {
    const holders = holdersOf(state, version);
    // An unreadable file name (`057.sql`) counts as a name of its own: it cannot agree with any other.
    const names = holders.map((h) =>
      h.name !== null ? h.name : h.source === "main" || h.source === "branch" ? `file:${h.file}` : null,
    );
    const distinct = new Set(
      names.filter((n) => n !== null).map((n) => n.toLowerCase().replace(/[_\s]+/g, " ")),
    );
    if (distinct.size < 2) continue;
    out.push({
      version,
      holders: holders.map((h) => ({ name: h.name, where: h.source === "branch" ? h.ref : h.source })),
      message: `version ${version} has ${distinct.size} names: ${holders.map(describeHolder).join("; ")}. ${collisionVerdict(holders)}`,
    });
  }
  return out;
}

function collisionVerdict(holders: Holder[]): string {
  const main = holders.filter((h) => h.source === "main");
  const prod = holders.find((h) => h.source === "production");
  if (prod && main.some((m) => namesDiffer(m.name, prod.name))) {
    return "main and production disagree on this version: the next deploy will crash-loop.";
  }
  const settled = holders.some((h) => h.source === "production" || h.source === "main");
  return settled
    ? "Merging the other name would make the app's migrator refuse it: the container would crash-loop. Rename it to a freshly reserved version."
    : "Only one of these branches can keep the version; the other must reserve a new one before merging.";
}

/** Branch files above main that no open lease covers: a worker created a migration without a slot. */
export function findUnleased(
  state: RepoState,
  open: LeaseRow[],
): { version: number; name: string; refs: string[] }[] {
  const leased = new Set(open.map((l) => `${l.version}:${l.name}`));
  const mainMax = state.main.catalog.maxVersion ?? -1;
  const found = new Map<string, { version: number; name: string; refs: string[] }>();
  for (const [version, adds] of state.branchAdds) {
    if (version <= mainMax) continue;
    for (const { ref, entry } of adds) {
      const name = entry.name ?? entry.file;
      const key = `${version}:${name}`;
      if (leased.has(key)) continue;
      const item = found.get(key) ?? { version, name, refs: [] };
      item.refs.push(ref);
      found.set(key, item);
    }
  }
  return [...found.values()].sort((a, b) => a.version - b.version);
}
