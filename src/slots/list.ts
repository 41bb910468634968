import { InputError } from "../errors.js";
import type { FetchOutcome } from "../git/repo.js";
import { gatherRepoState, type RepoStateDeps } from "../repo/state.js";
import { type AcknowledgedRisk, acknowledgedRisks } from "../site/acknowledged.js";
import type { LeaseRow } from "../store/types.js";
import { type ProductionReport, productionReport, sourceWarnings } from "./report.js";
import {
  type Collision,
  findCollisions,
  findUnleased,
  type LeaseState,
  type LeaseStatus,
  leaseStatus,
} from "./states.js";

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
  unleased: { version: number; name: string; refs: string[] }[];
  main: { ref: string; sha: string; maxVersion: number | null };
  production: ProductionReport;
  fetch: FetchOutcome;
  branchesScanned: number;
  warnings: string[];
  now: number;
}

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
    input.includeEnded === true || (input.states ?? []).some((s) => s === "released" || s === "expired");
  const rows = await state.store.listLeases({
    includeEnded: wantsEnded,
    ...(input.worker ? { worker: input.worker } : {}),
    limit,
  });
  const now = ws.clock.now();
  const open = rows.filter((l) => l.endedAt === null);
  const all: ListedLease[] = [];
  for (const lease of rows) {
    const status = leaseStatus(lease, state, now);
    const open = lease.endedAt === null && status.state !== "applied";
    const acknowledged = open ? await acknowledgedRisks(state.store, lease.files, 1) : [];
    all.push({ lease, ...status, acknowledged });
  }
  const counts = Object.fromEntries(
    (["active", "merged", "applied", "released", "expired", "conflicted"] as const).map((s) => [
      s,
      all.filter((l) => l.state === s).length,
    ]),
  ) as Record<LeaseState, number>;
  const leases = input.states ? all.filter((l) => input.states!.includes(l.state)) : all;
  leases.sort((a, b) => b.lease.version - a.lease.version);
  return {
    leases,
    counts,
    collisions: findCollisions(state),
    unleased: input.worker ? [] : findUnleased(state, open),
    main: { ref: state.main.ref, sha: state.main.sha, maxVersion: state.main.catalog.maxVersion },
    production: productionReport(state),
    fetch: state.fetch,
    branchesScanned: state.branches.length,
    warnings: sourceWarnings(state),
    now,
  };
}
