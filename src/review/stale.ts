import { duration } from "../ages.js";
import type { ReviewedBranch, ReviewedLease, StaleFlag } from "./types.js";

const HOUR = 3_600_000;

/**
 * When the head's review calls a worker stale, and which rule said so. Pure: a function of the
 * worker's branches, leases and last activity, and `review.*` from main's config.
 *
 * - `unpushed_leases`: open leases older than `review.stale_hours`, and none of the worker's
 *   branches is on origin (never pushed, or no branch at all): the versions are held by work
 *   nobody else can see.
 * - `silent`: the worker has open leases or a branch ahead of main, and no commit, lease or
 *   completion for `review.silent_hours`.
 */
export function staleFlags(input: {
  branches: ReviewedBranch[];
  leases: ReviewedLease[];
  lastActivityAt: number;
  now: number;
  staleHours: number;
  silentHours: number;
}): StaleFlag[] {
  const flags: StaleFlag[] = [];
  const open = input.leases.filter((l) => l.lease.endedAt === null);
  const old = open.filter((l) => l.ageMs > input.staleHours * HOUR);
  const pushed = input.branches.some((b) => b.tip.remote !== null);
  if (old.length > 0 && !pushed) {
    const where =
      input.branches.length === 0
        ? "with no branch"
        : `on ${input.branches.map((b) => b.tip.branch).join(", ")}, never pushed`;
    const oldest = Math.max(...old.map((l) => l.ageMs));
    flags.push({
      rule: "unpushed_leases",
      detail: `${old.length} lease(s) up to ${duration(oldest)} old (version ${old.map((l) => l.lease.version).join(", ")}) ${where} (review.stale_hours: ${input.staleHours})`,
    });
  }
  const working = open.length > 0 || input.branches.some((b) => b.tip.ahead > 0);
  const quiet = input.now - input.lastActivityAt;
  if (working && quiet > input.silentHours * HOUR) {
    flags.push({
      rule: "silent",
      detail: `no commit, lease or completion for ${duration(quiet)} (review.silent_hours: ${input.silentHours})`,
    });
  }
  return flags;
}
