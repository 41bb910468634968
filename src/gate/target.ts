import { ForbiddenError, InputError } from "../errors.js";
import { type HiddenFile, headCommit, treeOf, worktreeState } from "../git/changes.js";
import type { Git } from "../git/git.js";
import { type Identity, requireWorkerId, workerOfBranch } from "../identity.js";
import type { RepoState } from "../repo/state.js";

/**
 * What a verdict is judged on: the caller's worktree; a branch's ref (the head, or a worker without
 * this worktree); or a commit checked out by CI, whose branch may not name a worker.
 */
export interface GateTarget {
  kind: "worktree" | "ref" | "commit";
  /** The branch's worker; null only for a CI commit whose branch names none. */
  worker: string | null;
  branch: string | null;
  head: string;
  tree: string;
  /** Uncommitted changes in the worktree; null when not observable (a ref, a CI commit). */
  dirty: boolean | null;
  dirtyPaths: string[];
  /** Tracked files whose skip-worktree or assume-unchanged flag hides their changes. */
  hidden: HiddenFile[];
}

/**
 * A worker's gate is always its own worktree's HEAD, which must be on a branch. The head (or the
 * tester) may name any branch; it is judged from the ref, so a clean worktree cannot be checked.
 */
export async function gateTarget(
  git: Git,
  state: RepoState,
  input: { branch?: string | undefined; worker?: string | undefined; sha?: string | undefined },
): Promise<GateTarget> {
  const { identity } = state.view;
  if (input.branch && identity.role !== "worker") return fromRef(git, state, input.branch, input.sha);
  if (input.branch && input.branch !== identity.branch) {
    // A worker without this worktree (HTTP mode, or another checkout) may ask about its own branches.
    if (identity.worker && workerOfBranch(input.branch) === identity.worker)
      return fromRef(git, state, input.branch, input.sha);
    throw new ForbiddenError(
      `a worker asks only about its own gate: ${input.branch} is not a branch of ${identity.worker ?? "yours"}`,
      "Drop the branch argument, or name one of your own mai/<you>/<task> branches; the head can look at any.",
    );
  }
  if (!identity.branch) {
    throw new InputError(
      identity.source === "token"
        ? "no worktree here: name your branch"
        : "HEAD is not on a branch (detached HEAD)",
      identity.source === "token"
        ? "Pass branch: mai/<you>/<task>; it is judged from its pushed ref."
        : "Check out your branch mai/<worker>/<task> and commit there.",
    );
  }
  const worker = ownWorker(identity, input.worker);
  const tree = await worktreeState(git);
  const dirty = tree.dirtyPaths.length > 0 || tree.hidden.length > 0;
  return { kind: "worktree", worker, branch: identity.branch, ...tree, dirty };
}

/** CI's target: the checked-out commit, on `branch` (the PR's branch) or whatever HEAD is on. */
export async function commitTarget(
  git: Git,
  state: RepoState,
  branch: string | undefined,
): Promise<GateTarget> {
  const { head, tree } = await headCommit(git);
  const name = branch ?? state.view.identity.branch;
  return {
    kind: "commit",
    worker: name ? workerOfBranch(name) : null,
    branch: name,
    head,
    tree,
    dirty: null,
    dirtyPaths: [],
    hidden: [],
  };
}

function ownWorker(identity: Identity, asked: string | undefined): string {
  const caller = identity.worker;
  if (asked && asked !== caller) {
    throw new ForbiddenError(
      `worker "${asked}" is not the caller (${caller ?? "unidentified"}): a worker acts only for itself`,
      "Drop the worker argument; mai-gate knows who is calling.",
    );
  }
  return requireWorkerId(identity);
}

/** A worker branch judged from its ref, or at `sha` (a commit of it that need not be the tip). */
export async function fromRef(git: Git, state: RepoState, branch: string, sha?: string): Promise<GateTarget> {
  const refs = state.view.refs.refs;
  const name = [branch, `origin/${branch}`].find((r) => refs.has(r));
  if (!name && !sha)
    throw new InputError(
      `no branch ${branch} here`,
      "Name a branch as git shows it, e.g. mai/ann/fix (after git fetch).",
    );
  const worker = workerOfBranch(branch);
  if (!worker) throw new InputError(`${branch} is not a worker branch mai/<worker>/<task>`);
  const head = sha ?? refs.get(name!)!;
  const tree = await treeOf(git, head);
  return {
    kind: "ref",
    worker,
    branch: name ?? branch,
    head,
    tree,
    dirty: null,
    dirtyPaths: [],
    hidden: [],
  };
}
