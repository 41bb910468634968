import { access, lstat, mkdir, open, readFile, rm, symlink, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { GitError, InputError } from "../errors.js";
import { createGit, type Git } from "./git.js";

/**
 * Clean checkouts of one commit, for runs whose result must be evidence of the commit alone: a
 * detached worktree under the state directory, reused between runs and reset each time so that
 * nothing git does not hold (uncommitted edits, ignored files, skip-worktree or assume-unchanged
 * flags) can change what runs. Each is checked after the reset: HEAD's tree is the expected tree,
 * `git status --ignored` is empty and no index flag is set.
 */
export interface CleanCheckout {
  path: string;
  /** Releases the checkout for the next run (removes the lock). */
  release(): Promise<void>;
}

/** Beside each checkout directory (not in it): `<path>.lock` holds the pid using it. */
const LOCK = ".lock";
const MAX_SLOTS = 8;

/**
 * Checks out `commit` cleanly in a slot named `name` (a worker id, `smoke`), taking the first
 * slot no live process holds. `tree` is the tree the commit must have.
 */
export async function cleanCheckout(
  git: Git,
  root: string,
  name: string,
  commit: string,
  tree: string,
): Promise<CleanCheckout> {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_");
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    const path = join(root, slot === 1 ? safe : `${safe}-${slot}`);
    const release = await lock(path);
    if (!release) continue;
    try {
      await reset(git, path, commit);
      await verify(createGit(path), tree);
      return { path, release };
    } catch (err) {
      await release();
      throw err;
    }
  }
  throw new GitError(`all ${MAX_SLOTS} clean checkouts of ${name} are in use`, {
    hint: "Wait for a running suite to finish (suite_status), or cancel it.",
  });
}

async function reset(git: Git, path: string, commit: string): Promise<void> {
  const exists = await access(join(path, ".git")).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await git.run(["worktree", "prune"]);
    await retryLocked(
      () => git.run(["worktree", "add", "--detach", "--force", "--quiet", path, commit]),
      path,
    );
    return;
  }
  const wt = createGit(path);
  const checkout = await wt.run(["checkout", "--detach", "--force", "--quiet", commit]);
  if (!checkout.ok)
    throw new GitError(`cannot check out ${commit.slice(0, 10)} in ${path}: ${checkout.stderr.trim()}`);
  const flags = await wt.run(["ls-files", "-v", "-z"]);
  if (flags.stdout.split("\0").some((e) => e.length > 2 && (e[0] === "S" || e[0] !== e[0]!.toUpperCase()))) {
    // An index flag hides changes: rebuild the index from the commit.
    const index = (await wt.run(["rev-parse", "--git-path", "index"])).stdout.trim();
    await rm(isAbsolute(index) ? index : join(path, index), { force: true });
    const hard = await wt.run(["reset", "--hard", "--quiet", commit]);
    if (!hard.ok) throw new GitError(`cannot reset ${path}: ${hard.stderr.trim()}`);
  }
  const clean = await wt.run(["clean", "-ffdx", "--quiet"]);
  if (!clean.ok) throw new GitError(`cannot clean ${path}: ${clean.stderr.trim()}`);
}

/** Proof the checkout holds exactly the commit's tree and nothing else. */
async function verify(wt: Git, tree: string): Promise<void> {
  const [head, status, flags] = await Promise.all([
    wt.run(["rev-parse", "HEAD^{tree}"]),
    wt.run(["status", "--porcelain", "--ignored", "-z", "--untracked-files=all"]),
    wt.run(["ls-files", "-v", "-z"]),
  ]);
  const extra = status.stdout.split("\0").filter(Boolean);
  const hidden = flags.stdout
    .split("\0")
    .filter((e) => e.length > 2 && (e[0] === "S" || e[0] !== e[0]!.toUpperCase()));
  const problem =
    head.stdout.trim() !== tree
      ? `its tree is ${head.stdout.trim().slice(0, 12)}, not ${tree.slice(0, 12)}`
      : extra.length > 0
        ? `it holds files git does not: ${extra.slice(0, 3).join(", ")}`
        : hidden.length > 0
          ? `index flags are set on ${hidden.slice(0, 3).join(", ")}`
          : null;
  if (problem) throw new GitError(`the clean checkout ${wt.cwd} is not clean: ${problem}`);
}

/**
 * Links `paths` (relative to the worktree, not in git) from the worker's worktree into the
 * checkout. Refuses paths outside the worktree or holding tracked files: those must come from the commit.
 */
export async function linkShared(checkout: string, worktree: string, paths: string[]): Promise<string[]> {
  const linked: string[] = [];
  for (const given of paths) {
    const rel = normalize(given).replace(/[/\\]+$/, "");
    if (rel === "." || rel.startsWith("..") || isAbsolute(rel) || rel.split(sep).includes(".git"))
      throw new InputError(`share: "${given}" must be a path inside the worktree`);
    const tracked = await createGit(checkout).run(["ls-files", "-z", "--", rel]);
    if (tracked.stdout.length > 0)
      throw new InputError(
        `share: "${given}" holds files that are in git; shared paths are for what git does not hold (a dependency cache)`,
      );
    const source = join(worktree, rel);
    if (!(await lstat(source).catch(() => null))) continue;
    await mkdir(dirname(join(checkout, rel)), { recursive: true });
    await symlink(source, join(checkout, rel));
    linked.push(rel);
  }
  return linked;
}

/** An O_EXCL lock file with the holder's pid; a lock of a dead process is taken over. */
async function lock(path: string): Promise<(() => Promise<void>) | null> {
  await mkdir(dirname(path), { recursive: true });
  const file = `${path}${LOCK}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(file).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(await readFile(file, "utf8").catch(() => "0"));
      if (alive(pid)) return null;
      await unlink(file).catch(() => undefined);
    }
  }
  return null;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `git worktree add` takes the repository's config lock: concurrent adds are retried a few times. */
async function retryLocked(add: () => ReturnType<Git["run"]>, path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await add();
    if (r.ok) return;
    if (attempt >= 5 || !/lock/i.test(r.stderr))
      throw new GitError(`cannot create the clean checkout ${path}: ${r.stderr.trim()}`);
    await new Promise((done) => setTimeout(done, 100 * (attempt + 1)));
  }
}
