import { access } from "node:fs/promises";
import { join } from "node:path";
import { GitError } from "../errors.js";
import { createGit } from "../git/git.js";
import type { Workspace } from "../workspace.js";

/**
 * The smoke shift's own worktree, checked out (detached) at main's HEAD: the tester never runs the
 * smoke suite in somebody's worktree. Untracked files are cleaned; ignored ones (build caches) stay.
 */
export async function smokeWorktree(ws: Workspace, mainSha: string): Promise<string> {
  const path = join((await ws.repo()).commonDir, "mai-gate", "smoke-worktree");
  const exists = await access(join(path, ".git")).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await ws.git.run(["worktree", "prune"]);
    const r = await ws.git.run(["worktree", "add", "--detach", "--force", path, mainSha]);
    if (!r.ok) throw new GitError(`cannot create the smoke worktree at ${path}: ${r.stderr.trim()}`);
    return path;
  }
  const git = createGit(path);
  const checkout = await git.run(["checkout", "--detach", "--force", "--quiet", mainSha]);
  if (!checkout.ok)
    throw new GitError(`cannot check out ${mainSha} in the smoke worktree: ${checkout.stderr.trim()}`);
  await git.run(["clean", "-fd", "--quiet"]);
  return path;
}
