import { InputError } from "../errors.js";
import type { FetchOutcome } from "../git/repo.js";
import type { Role } from "../identity.js";
import { gatherRepoState, type RepoStateDeps } from "../repo/state.js";
import { type AcknowledgedRisk, acknowledgedRisks } from "../site/acknowledged.js";
import type { LeaseRow } from "../store/types.js";
import { type Collision, findCollisions, findUnleased, type Unleased } from "./collisions.js";
import { type ProductionReport, productionReport, sourceWarnings } from "./report.js";
import { LEASE_STATES, type LeaseState, type LeaseStatus, leaseStatus } from "./states.js";

export interface ListInput {
  worker?: string | undefined;
  states?: LeaseState[] | undefined;
  includeEnded?: boolean | undefined;
  limit?: number | undefined;
}

export interface ListedLease extends LeaseStatus {
  lease: LeaseRow;
  /** Site-safety warnings its file's latest dry run recorded as accepted by a marker. */
  acknowledged: AcknowledgedRisk[];
}

export interface ListResult {
  leases: ListedLease[];
  counts: Record<LeaseState, number>;
  collisions: Collision[];
  unleased: Unleased[];
  main: { ref: string; sha: string; maxVersion: number | null };
  production: ProductionReport;
  fetch: FetchOutcome;
  branchesScanned: number;
  warnings: string[];
  now: number;
  /** The caller's role: the answer's next step is worded for it. */
  role: Role;
}

/** Ended leases read for the counts, beyond those listed. */
const COUNTED_ENDED = 5000;

/**
 * Every lease with its state computed now against git and production, plus repository-wide
 * collisions (one version, several names) and branch files that no lease covers.
 */
export async function listLeases(ws: RepoStateDeps, input: ListInput = {}): Promise<ListResult> {
  const limit = input.limit ?? 200;
  if (!Number.isInteger(limit) || limit < 1 || limit > 5000) {
    throw new InputError(`limit ${limit} is out of range: 1 to 5000`);
  }
  const state = await gatherRepoState(ws, { fetch: true });
  const wantsEnded =
    input.includeEnded === true ||
    (input.states ?? []).some((s) => s === "released" || s === "revoked" || s === "expired");
  const who = input.worker ? { worker: input.worker } : {};
  // Open leases are always read whole (up to the limit); ended ones too, so the counts say how many
  // were released, revoked or expired even when only open leases are listed.
  const [open, withEnded, everyOpen] = await Promise.all([
    state.store.listLeases({ includeEnded: false, ...who, limit }),
    state.store.listLeases({ includeEnded: true, ...who, limit: Math.max(limit, COUNTED_ENDED) }),
    // Who must move a file is judged against every open lease, not only the listed worker's.
    input.worker ? state.store.listLeases({ includeEnded: false, limit: 10_000 }) : null,
  ]);
  const now = ws.clock.now();
  const ended = withEnded.filter((l) => l.endedAt !== null);
  const judged: ListedLease[] = [...open, ...ended].map((lease) => ({
    lease,
    ...leaseStatus(lease, state, now),
    acknowledged: [],
  }));
  const counts = Object.fromEntries(
    LEASE_STATES.map((s) => [s, judged.filter((l) => l.state === s).length]),
  ) as Record<LeaseState, number>;
  const listed = wantsEnded
    ? judged.sort((a, b) => b.lease.createdAt - a.lease.createdAt).slice(0, limit)
    : judged.filter((l) => l.lease.endedAt === null);
  const leases = input.states ? listed.filter((l) => input.states!.includes(l.state)) : listed;
  leases.sort((a, b) => b.lease.version - a.lease.version || b.lease.createdAt - a.lease.createdAt);
  // The site-safety warnings a listed open lease's file accepted with a marker (its latest dry run).
  for (const l of leases) {
    if (l.lease.endedAt === null && l.state !== "applied")
      l.acknowledged = await acknowledgedRisks(state.store, l.lease.files);
  }
  return {
    leases,
    counts,
    collisions: findCollisions(state, everyOpen ?? open),
    unleased: input.worker ? [] : findUnleased(state, open),
    main: { ref: state.main.ref, sha: state.main.sha, maxVersion: state.main.catalog.maxVersion },
    production: productionReport(state),
    fetch: state.fetch,
    branchesScanned: state.branches.length,
    warnings: sourceWarnings(state),
    now,
    role: state.view.identity.role,
  };
}
