import { ForbiddenError, GitError, InputError } from "../errors.js";
import { treeState } from "../git/changes.js";
import type { Identity } from "../identity.js";
import type { RepoState } from "../slots/sources.js";
import type { Workspace } from "../workspace.js";

/** What a gate is judged on: the caller's worktree, or (for the head) a branch's ref. */
export interface GateTarget {
  kind: "worktree" | "ref";
  worker: string;
  branch: string;
  head: string;
  tree: string;
  /** Uncommitted changes in the worktree; null when judged from a ref (not observable). */
  dirty: boolean | null;
}

const WORKER_BRANCH = /^mai\/([^/]+)\/.+$/;

/**
 * A worker's gate is always its own worktree's HEAD, which must be on a branch. The head (or the
 * tester) may name any branch; it is judged from the ref, so a clean worktree cannot be checked.
 */
export async function gateTarget(
  ws: Workspace,
  state: RepoState,
  input: { branch?: string | undefined; worker?: string | undefined },
): Promise<GateTarget> {
  const { identity } = state.view;
  if (input.branch && identity.role !== "worker") return fromRef(ws, state, input.branch);
  if (input.branch && input.branch !== identity.branch) {
    // A worker without this worktree (HTTP mode, or another checkout) may ask about its own branches.
    const own =
      identity.worker && WORKER_BRANCH.exec(input.branch.replace(/^origin\//, ""))?.[1] === identity.worker;
    if (own) return fromRef(ws, state, input.branch);
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
  const tree = await treeState(ws.git);
  return {
    kind: "worktree",
    worker,
    branch: identity.branch,
    head: tree.head,
    tree: tree.tree,
    dirty: tree.dirty,
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
  if (!caller) {
    throw new InputError(
      "cannot tell which worker is calling",
      "Check out your branch mai/<worker>/<task>, or set MAI_WORKER in the server's env.",
    );
  }
  return caller;
}

async function fromRef(ws: Workspace, state: RepoState, branch: string): Promise<GateTarget> {
  const refs = state.view.refs.refs;
  const name = [branch, `origin/${branch}`].find((r) => refs.has(r));
  if (!name)
    throw new InputError(
      `no branch ${branch} here`,
      "Name a branch as git shows it, e.g. mai/ann/fix (after git fetch).",
    );
  const worker = WORKER_BRANCH.exec(name.replace(/^origin\//, ""))?.[1];
  if (!worker) throw new InputError(`${branch} is not a worker branch mai/<worker>/<task>`);
  const head = refs.get(name)!;
  const r = await ws.git.run(["rev-parse", `${head}^{tree}`]);
  if (!r.ok) throw new GitError(`cannot read the tree of ${name}: ${r.stderr.trim()}`);
  return { kind: "ref", worker, branch: name, head, tree: r.stdout.trim(), dirty: null };
}
