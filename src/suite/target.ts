import type { View } from "../deps.js";
import { InputError } from "../errors.js";
import { treeOf, worktreeState } from "../git/changes.js";
import { type Identity, requireWorkerId } from "../identity.js";
import type { SuiteDeps } from "./service.js";

/**
 * What a suite run checks out: the caller's HEAD (its committed tree), or main's HEAD for the smoke
 * profile and for the tester, whoever asks.
 */
export interface Target {
  /** The worker's worktree (what `share:` links from). */
  root: string;
  worker: string;
  smoke: boolean;
  mainSha: string;
  /** The commit and tree that run: HEAD's (main's for smoke). */
  head: string;
  tree: string;
  /** The worktree had uncommitted changes, which are not part of the run. */
  dirty: boolean;
}

export async function targetOf(ws: SuiteDeps, view: View, smoke: boolean): Promise<Target> {
  const mainSha = view.refs.refs.get(view.loaded.config.main_branch);
  if (!mainSha)
    throw new InputError(
      `main_branch ${view.loaded.config.main_branch} does not exist here`,
      "Run git fetch.",
    );
  const root = view.repo.root;
  if (view.identity.role === "tester" || smoke) {
    const tree = await treeOf(ws.git, mainSha);
    const worker = view.identity.role === "tester" ? testerId(view.identity) : requireWorkerId(view.identity);
    return { root, worker, smoke: true, mainSha, head: mainSha, tree, dirty: false };
  }
  const worker = requireWorkerId(view.identity);
  const state = await worktreeState(ws.git);
  const dirty = state.dirtyPaths.length > 0 || state.hidden.length > 0;
  return { root, worker, smoke: false, mainSha, head: state.head, tree: state.tree, dirty };
}

function testerId(identity: Identity): string {
  return identity.worker ?? "tester";
}
