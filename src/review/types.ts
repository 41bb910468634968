import type { GateResult } from "../gate/service.js";
import type { BranchTip } from "../git/branches.js";
import type { FetchOutcome } from "../git/repo.js";
import type { Blame, Collision, Unleased } from "../slots/collisions.js";
import type { ProductionReport } from "../slots/report.js";
import type { LeaseConflict, LeaseState } from "../slots/states.js";
import type { CompletionRecord, LeaseRow } from "../store/types.js";

/** The head's review of every worker: what the page, `review_workers` and `mai-gate review` show. */

export interface ReviewedLease {
  lease: LeaseRow;
  state: LeaseState;
  conflicts: LeaseConflict[];
  notes: string[];
  ageMs: number;
}

/** A worker's latest completion on a branch, against the branch's tip now. */
export interface ReviewedCompletion {
  record: CompletionRecord;
  /** Every copy of the branch (local and origin's) still points at the reported commit. */
  atTip: boolean;
  /** "still at tip" or "branch moved since: stale". */
  status: string;
}

export interface ReviewedBranch {
  tip: BranchTip;
  /** The verdict engine's gate for the tip, judged from the ref; or why it could not be judged. */
  gate: GateResult | { error: string };
  completion: ReviewedCompletion | null;
}

export const STALE_RULES = ["unpushed_leases", "silent"] as const;
export type StaleRule = (typeof STALE_RULES)[number];

/** Why a worker counts as stale: the rule that fired and the facts behind it. */
export interface StaleFlag {
  rule: StaleRule;
  detail: string;
}

export interface WorkerReview {
  worker: string;
  branches: ReviewedBranch[];
  leases: ReviewedLease[];
  stale: StaleFlag[];
  /** Files of this worker that must move off another's version. */
  blame: Blame[];
  /** The newest commit, lease or completion of this worker (ms; 0 when none). */
  lastActivityAt: number;
  /** What the head does about this worker, one sentence. */
  next: string;
  /** This worker's branches beyond the review's bound, not judged. */
  notJudged: string[];
}

/** A version main and production name differently: the next deploy crash-loops on it. */
export interface ProductionConflict {
  version: number;
  file: string;
  mainName: string;
  productionName: string;
}

export interface Review {
  now: number;
  main: { ref: string; sha: string; maxVersion: number | null };
  workers: WorkerReview[];
  collisions: Collision[];
  unleased: Unleased[];
  productionConflicts: ProductionConflict[];
  /** The head's next steps across every worker, most urgent first. */
  next: string[];
  settings: { staleHours: number; silentHours: number };
  production: ProductionReport;
  fetch: FetchOutcome;
  warnings: string[];
}
