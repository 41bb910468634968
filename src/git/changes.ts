import { GitError } from "../errors.js";
import type { Git } from "./git.js";

/** The merge base of HEAD and `ref`. */
export async function mergeBase(git: Git, ref: string): Promise<string> {
  const r = await git.run(["merge-base", "HEAD", ref]);
  if (!r.ok)
    throw new GitError(`no merge base between HEAD and ${ref}: ${r.stderr.trim() || "unrelated histories"}`);
  return r.stdout.trim();
}

/**
 * Paths changed since `base` as they are on disk: committed, staged, unstaged and untracked
 * (ignored files excluded). `filter` is git's --diff-filter.
 */
export async function changedPaths(
  git: Git,
  base: string,
  pathspec: string[] = [],
  filter = "ACDMR",
): Promise<string[]> {
  const [changed, untracked] = await Promise.all([
    git.run(["diff", "--name-only", `--diff-filter=${filter}`, "-z", base, "--", ...pathspec]),
    git.run(["ls-files", "--others", "--exclude-standard", "-z", "--", ...pathspec]),
  ]);
  if (!changed.ok) throw new GitError(`git diff failed: ${changed.stderr.trim()}`);
  const paths = new Set([...changed.stdout.split("\0"), ...untracked.stdout.split("\0")].filter(Boolean));
  return [...paths].sort();
}

/** HEAD's commit and tree, and whether the worktree differs from it. */
export async function treeState(git: Git): Promise<{ head: string; tree: string; dirty: boolean }> {
  const [ids, status] = await Promise.all([
    git.run(["rev-parse", "HEAD", "HEAD^{tree}"]),
    git.run(["status", "--porcelain", "--untracked-files=normal"]),
  ]);
  if (!ids.ok) throw new GitError(`this worktree has no commit to test: ${ids.stderr.trim()}`);
  const [head, tree] = ids.stdout.trim().split("\n");
  return { head: head!, tree: tree!, dirty: status.stdout.trim().length > 0 };
}
