import { posix } from "node:path";
import { short } from "../ages.js";
import type { DeployStatus } from "../deploy/report.js";
import { describeCondition } from "../gate/service.js";
import type { ProductionConflict, Review, ReviewedBranch, WorkerReview } from "./types.js";

/**
 * What the head does next, derived from the review: one sentence per worker, and across workers a
 * list, most urgent first. Worded for the head (whom to tell what, what to revoke, what to merge),
 * never a worker's own chores.
 */

/** "rename main's 019 or repair production's history: the next deploy will crash-loop". */
export function productionNext(c: ProductionConflict): string {
  const number = posix.basename(c.file).split("_")[0] ?? String(c.version);
  return `rename main's ${number} or repair production's history: the next deploy will crash-loop (version ${c.version} is "${c.mainName}" on main, "${c.productionName}" in production)`;
}

/** The head's one next step for a worker. */
export function workerNext(w: Omit<WorkerReview, "next">, mergeBlocked: boolean): string {
  if (w.blame[0]) return `tell ${w.blame[0].message}`;
  const silent = w.stale.find((f) => f.rule === "silent");
  if (silent)
    return `reach ${w.worker}, or revoke_worker_leases(worker: "${w.worker}", reason: "silent: ${silent.detail.split(" (")[0]}"): ${w.leases.length} open lease(s)`;
  const unpushed = w.stale.find((f) => f.rule === "unpushed_leases");
  if (unpushed)
    return `ask ${w.worker} to push ${w.branches.map((b) => b.tip.branch).join(", ") || "a branch"} (or revoke_worker_leases if the work is abandoned): ${unpushed.detail}`;
  const moved = w.branches.find((b) => b.completion && !b.completion.atTip);
  if (moved?.completion)
    return `do not merge ${moved.tip.branch}: ${w.worker}'s completion at ${short(moved.completion.record.head)} is stale (the branch moved since, now ${short(moved.tip.tip)}); wait for a new report`;
  const done = w.branches.find((b) => b.completion?.atTip);
  if (done) return doneNext(w.worker, done, mergeBlocked);
  const red = w.branches.find((b) => !("error" in b.gate) && !b.gate.green);
  if (red && !("error" in red.gate))
    return `nothing yet: ${w.worker} is working on ${red.tip.branch} (gate red: ${red.gate.unmet[0] ? describeCondition(red.gate.unmet[0]).split(". Fix:")[0] : "?"})`;
  const green = w.branches.find((b) => !("error" in b.gate) && b.gate.green);
  if (green)
    return `wait for ${w.worker}'s report: the gate of ${green.tip.branch} is green at ${short(green.tip.tip)}`;
  return `nothing: ${w.worker} holds ${w.leases.length} lease(s) and no branch yet`;
}

function doneNext(worker: string, b: ReviewedBranch, mergeBlocked: boolean): string {
  const sha = b.tip.tip;
  if ("error" in b.gate)
    return `${worker}'s completion is at the tip, but its gate could not be judged: ${b.gate.error}`;
  if (!b.gate.green)
    return `do not merge ${b.tip.branch}: ${worker}'s completion is at the tip but its gate is red now (${b.gate.unmet[0] ? describeCondition(b.gate.unmet[0]).split(". Fix:")[0] : "?"})`;
  const verify = `verify_completion(worker: "${worker}", branch: "${b.tip.branch}", sha: "${sha}")`;
  return mergeBlocked
    ? `${worker} is done (completion at the tip, gate green): ${verify}, then merge once production's conflict is fixed`
    : `${worker} is done (completion at the tip, gate green): ${verify}, then merge ${b.tip.branch} at ${short(sha)} when deploy_status says safe to merge`;
}

/** The head's next steps across workers: production first, then blame, stale workers, stale completions, merges. */
export function reviewNext(conflicts: ProductionConflict[], workers: WorkerReview[]): string[] {
  const rank = (n: string) =>
    n.startsWith("tell ")
      ? 1
      : n.startsWith("reach ")
        ? 2
        : n.startsWith("ask ")
          ? 3
          : n.startsWith("do not merge")
            ? 4
            : 5;
  const acting = workers
    .map((w) => w.next)
    .filter((n) => !n.startsWith("nothing"))
    .sort((a, b) => rank(a) - rank(b));
  const out = [...conflicts.map(productionNext), ...acting];
  return out.length > 0 ? out : ["nothing to do: no worker needs the head now"];
}

/**
 * The one "Next:" of the status page, from the review and the deploy verdict: a site that is down
 * first, then what the next deploy would break, then anything degraded, then the review's first step.
 */
export function pageNext(review: Review | null, deploy: DeployStatus | null): string {
  if (deploy?.verdict === "down")
    return "the live site is down: follow the deploy-incident runbook (deploy_status with fresh: true first); merge nothing";
  if (review && review.productionConflicts.length > 0) return review.next[0]!;
  if (deploy?.verdict === "degraded")
    return `stop merging: ${deploy.reasons.find((r) => !r.startsWith("risk:")) ?? "main or production needs fixing"}`;
  if (review) return review.next[0]!;
  return deploy ? deploy.safeToMerge.why : "nothing could be read: see the errors below";
}
