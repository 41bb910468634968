import { workerOfBranch } from "../identity.js";
import type { RepoState } from "../repo/state.js";
import type { LeaseRow } from "../store/types.js";
import { describeHolder, fileClashes, type Holder, holdersOf, namesDiffer } from "./holders.js";
import type { LeaseState } from "./lease-states.js";
import { shortBranch } from "./rules.js";

export { LEASE_STATES, type LeaseState } from "./lease-states.js";

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
    if (lease.endReason === "revoked")
      notes.push(`revoked by ${lease.endedBy ?? "the head"}${lease.endNote ? `: ${lease.endNote}` : ""}`);
    else if (lease.endNote) notes.push(`reason: ${lease.endNote}`);
    const ended =
      lease.endReason === "expired" || lease.endReason === "revoked" ? lease.endReason : "released";
    return { state: ended, conflicts: [], notes };
  }
  const holders = holdersOf(state, lease.version);
  const clashing = holders.filter((h) => fileClashes({ name: lease.name }, h));
  // A branch file on a leased version is that branch's fault (it has no lease): it must move, not
  // the lease. One note per branch (its local and origin copies are one branch).
  const blamed = new Set<string>();
  for (const h of clashing) {
    if (h.source !== "branch" || blamed.has(shortBranch(h.ref))) continue;
    blamed.add(shortBranch(h.ref));
    const who = workerOfBranch(h.ref) ?? shortBranch(h.ref);
    notes.push(
      `${who}: version ${lease.version} is ${lease.worker}'s lease — reserve and rename (${shortBranch(h.ref)} has ${h.file} without a lease)`,
    );
  }
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
