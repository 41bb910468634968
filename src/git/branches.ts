import { GitError } from "../errors.js";
import type { Git } from "./git.js";
import type { RefSnapshot } from "./repo.js";

/**
 * Worker branches as the head sees them from one clone: each branch once, with its local copy and
 * origin's, whether it is pushed, how far ahead of main, and when it last had a commit. Read from
 * refs and commits only.
 */

/** One branch: its local and origin copies (either may be missing). */
export interface BranchCopies {
  /** The short name, `mai/ann/fix`. */
  branch: string;
  local: string | null;
  remote: string | null;
}

export type PushState = "pushed" | "never_pushed" | "unpushed_commits" | "diverged";

export interface BranchTip extends BranchCopies {
  push: PushState;
  /** Local commits origin's copy lacks (0 when pushed or never pushed). */
  unpushed: number;
  /** The commit the branch is judged at: the newer copy (the local one when they diverged). */
  tip: string;
  /** Commits the tip has that main lacks. */
  ahead: number;
  /** Committer time of the tip, ms. */
  committedAt: number;
}

/** Branches whose short name `accept` takes, each once: `mai/x` and `origin/mai/x` are one branch. */
export function branchCopies(refs: RefSnapshot, accept: (short: string) => boolean): BranchCopies[] {
  const byName = new Map<string, BranchCopies>();
  for (const [ref, sha] of refs.refs) {
    const remote = refs.remote.has(ref);
    if (remote && !ref.startsWith("origin/")) continue;
    const short = remote ? ref.slice("origin/".length) : ref;
    if (!accept(short)) continue;
    const copies = byName.get(short) ?? { branch: short, local: null, remote: null };
    if (remote) copies.remote = sha;
    else copies.local = sha;
    byName.set(short, copies);
  }
  return [...byName.values()].sort((a, b) => a.branch.localeCompare(b.branch));
}

/** How many commits `head` has that `base` lacks. */
async function countAhead(git: Git, base: string, head: string): Promise<number> {
  if (base === head) return 0;
  const r = await git.run(["rev-list", "--count", `${base}..${head}`]);
  if (!r.ok)
    throw new GitError(`git rev-list ${base.slice(0, 10)}..${head.slice(0, 10)} failed: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/** Committer times (ms) of commits, in one git process. */
export async function commitTimes(git: Git, shas: string[]): Promise<Map<string, number>> {
  const unique = [...new Set(shas)];
  const out = new Map<string, number>();
  if (unique.length === 0) return out;
  const r = await git.run(["log", "--no-walk=unsorted", "--format=%H %ct", ...unique]);
  if (!r.ok) throw new GitError(`git log failed: ${r.stderr.trim()}`);
  for (const line of r.stdout.split("\n")) {
    const [sha, seconds] = line.trim().split(" ");
    if (sha && seconds) out.set(sha, Number(seconds) * 1000);
  }
  return out;
}

/** Push state, distance from main and last commit of each branch. */
export async function branchTips(git: Git, mainSha: string, branches: BranchCopies[]): Promise<BranchTip[]> {
  const tips = await Promise.all(branches.map((b) => pushState(git, b)));
  const [times, ahead] = await Promise.all([
    commitTimes(
      git,
      tips.map((t) => t.tip),
    ),
    Promise.all(tips.map((t) => countAhead(git, mainSha, t.tip))),
  ]);
  return tips.map((t, i) => ({ ...t, ahead: ahead[i] ?? 0, committedAt: times.get(t.tip) ?? 0 }));
}

async function pushState(git: Git, b: BranchCopies): Promise<Omit<BranchTip, "ahead" | "committedAt">> {
  if (b.local === null) return { ...b, push: "pushed", unpushed: 0, tip: b.remote! };
  if (b.remote === null) return { ...b, push: "never_pushed", unpushed: 0, tip: b.local };
  const [mine, theirs] = await Promise.all([
    countAhead(git, b.remote, b.local),
    countAhead(git, b.local, b.remote),
  ]);
  if (mine === 0) return { ...b, push: "pushed", unpushed: 0, tip: theirs > 0 ? b.remote : b.local };
  return { ...b, push: theirs === 0 ? "unpushed_commits" : "diverged", unpushed: mine, tip: b.local };
}
