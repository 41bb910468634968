import { REVIEW_DEFAULTS } from "../config/schema.js";
import { historyReport } from "../deploy/status.js";
import { errorMessage } from "../errors.js";
import { evaluate, type GateDeps } from "../gate/service.js";
import { fromRef } from "../gate/target.js";
import { type BranchCopies, branchCopies, branchTips } from "../git/branches.js";
import { requireRole, workerOfBranch } from "../identity.js";
import { gatherRepoState, type RepoState } from "../repo/state.js";
import { type Blame, findCollisions, findUnleased } from "../slots/collisions.js";
import { productionReport, sourceWarnings } from "../slots/report.js";
import { shortBranch } from "../slots/rules.js";
import { leaseStatus } from "../slots/states.js";
import type { CompletionRecord, LeaseRow } from "../store/types.js";
import { reviewNext, workerNext } from "./next.js";
import { staleFlags } from "./stale.js";
import type { Review, ReviewedBranch, ReviewedLease, WorkerReview } from "./types.js";

/** Branches judged per review (the rest are listed as not judged): each is one gate evaluation. */
export const MAX_REVIEWED_BRANCHES = 40;
const GATES_AT_ONCE = 4;

/**
 * The head's review of every worker, from one read of the repository: each worker branch once
 * (local and origin's copies), pushed or not, ahead of main, its last commit, its gate from the
 * verdict engine, its latest completion against the tip; each worker's leases with ages and
 * states; stale flags with the rule that set them; and what the head does next.
 */
export async function reviewWorkers(
  ws: GateDeps,
  input: { worker?: string | undefined } = {},
): Promise<Review> {
  const state = await gatherRepoState(ws, { fetch: true });
  requireRole(state.view.identity, ["head"], "review every worker");
  return reviewOf(ws, state, input.worker);
}

/** The review on a repository state already read (the status page reads it once for everything). */
export async function reviewOf(ws: GateDeps, state: RepoState, only?: string): Promise<Review> {
  const now = ws.clock.now();
  const settings = state.config.review ?? REVIEW_DEFAULTS;
  const accept = (short: string) => {
    const w = workerOfBranch(short);
    return w !== null && (only === undefined || w === only);
  };
  const [open, completions] = await Promise.all([
    state.store.listLeases({ includeEnded: false, limit: 10_000 }),
    state.store.completions({ ...(only ? { worker: only } : {}), limit: 1000 }),
  ]);
  const copies = branchCopies(state.view.refs, accept);
  const judged = copies.slice(0, MAX_REVIEWED_BRANCHES);
  const branches = await reviewBranches(ws, state, judged, completions);
  const collisions = findCollisions(state, open);
  const unleased = findUnleased(state, open);
  const blame = blameByWorker(
    collisions.flatMap((c) => c.blame),
    unleased,
  );
  const conflicts = historyReport(state).data?.conflicts ?? [];
  const names = new Set([
    ...copies.map((c) => workerOfBranch(c.branch)!),
    ...open.map((l) => l.worker).filter((w) => only === undefined || w === only),
  ]);
  const workers = [...names].sort().map((worker) => {
    const mine = branches.filter((b) => workerOfBranch(b.tip.branch) === worker);
    const leases = open
      .filter((l) => l.worker === worker)
      .sort((a, b) => a.version - b.version)
      .map((l) => reviewLease(l, state, now));
    const lastActivityAt = Math.max(
      0,
      ...mine.map((b) => b.tip.committedAt),
      ...leases.map((l) => l.lease.createdAt),
      ...completions.filter((c) => c.worker === worker).map((c) => c.createdAt),
    );
    const review: Omit<WorkerReview, "next"> = {
      worker,
      branches: mine,
      leases,
      stale: staleFlags({
        branches: mine,
        leases,
        lastActivityAt,
        now,
        staleHours: settings.stale_hours,
        silentHours: settings.silent_hours,
      }),
      blame: blame.get(worker) ?? [],
      lastActivityAt,
      notJudged: copies
        .slice(MAX_REVIEWED_BRANCHES)
        .filter((c) => workerOfBranch(c.branch) === worker)
        .map((c) => c.branch),
    };
    return { ...review, next: workerNext(review, conflicts.length > 0) };
  });
  return {
    now,
    main: { ref: state.main.ref, sha: state.main.sha, maxVersion: state.main.catalog.maxVersion },
    workers,
    collisions,
    unleased,
    productionConflicts: conflicts,
    next: reviewNext(conflicts, workers),
    settings: { staleHours: settings.stale_hours, silentHours: settings.silent_hours },
    production: productionReport(state),
    fetch: state.fetch,
    warnings: sourceWarnings(state),
  };
}

function reviewLease(lease: LeaseRow, state: RepoState, now: number): ReviewedLease {
  return { lease, ...leaseStatus(lease, state, now), ageMs: Math.max(0, now - lease.createdAt) };
}

/** Each branch's tip, gate and latest completion; gates a few at a time. */
async function reviewBranches(
  ws: GateDeps,
  state: RepoState,
  copies: BranchCopies[],
  completions: CompletionRecord[],
): Promise<ReviewedBranch[]> {
  const tips = await branchTips(ws.git, state.main.sha, copies);
  const out: ReviewedBranch[] = new Array(tips.length);
  let next = 0;
  const work = async () => {
    for (let i = next++; i < tips.length; i = next++) {
      const tip = tips[i]!;
      out[i] = {
        tip,
        gate: await gateOf(ws, state, tip.branch, tip.tip),
        completion: completionOf(tip, completions),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(GATES_AT_ONCE, tips.length) }, work));
  return out;
}

async function gateOf(
  ws: GateDeps,
  state: RepoState,
  branch: string,
  sha: string,
): Promise<ReviewedBranch["gate"]> {
  try {
    return await evaluate(ws, state, await fromRef(ws.git, state, branch, sha));
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** The latest completion on this branch, and whether every copy of the branch still points at it. */
function completionOf(
  tip: ReviewedBranch["tip"],
  completions: CompletionRecord[],
): ReviewedBranch["completion"] {
  const record = completions.find((c) => shortBranch(c.branch) === tip.branch);
  if (!record) return null;
  const atTip = [tip.local, tip.remote].every((sha) => sha === null || sha === record.head);
  return { record, atTip, status: atTip ? "still at tip" : "branch moved since: stale" };
}

/** Who must move which file, by worker: collision blame first, then unleased files. */
function blameByWorker(
  fromCollisions: Blame[],
  unleased: ReturnType<typeof findUnleased>,
): Map<string, Blame[]> {
  const out = new Map<string, Blame[]>();
  const add = (b: Blame) => {
    if (!b.worker) return;
    const list = out.get(b.worker) ?? [];
    if (!list.some((x) => x.version === b.version && x.branch === b.branch)) list.push(b);
    out.set(b.worker, list);
  };
  fromCollisions.forEach(add);
  for (const u of unleased) {
    for (const ref of u.refs) {
      const branch = shortBranch(ref);
      add({ branch, worker: workerOfBranch(branch), version: u.version, message: u.message });
    }
  }
  return out;
}
