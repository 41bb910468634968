import { GitError } from "../errors.js";
import type { Git } from "./git.js";

/** The merge base of `head` (default HEAD) and `ref`. */
export async function mergeBase(git: Git, ref: string, head = "HEAD"): Promise<string> {
  const r = await git.run(["merge-base", head, ref]);
  if (!r.ok)
    throw new GitError(
      `no merge base between ${head.slice(0, 10)} and ${ref}: ${r.stderr.trim() || "unrelated histories"}`,
      { hint: "Fetch main and branch from it (git fetch; git rebase origin/main)." },
    );
  return r.stdout.trim();
}

/**
 * Paths changed since `base` as they are on disk: committed, staged, unstaged and untracked
 * (ignored files excluded). `filter` is git's --diff-filter. For the worker's dry run of files it
 * has not committed yet; evidence is judged on committed content only (`committedChanges`).
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

/** One changed path between two commits, with the modes that tell a symlink or a type change. */
export interface CommittedChange {
  /** A added, C copied, D deleted, M modified (content or mode), R renamed, T type changed. */
  status: "A" | "C" | "D" | "M" | "R" | "T";
  path: string;
  /** For renames and copies: where it came from. */
  from: string | null;
  oldMode: string;
  newMode: string;
  /** Blob ids before and after (all zeros where there is none). */
  oldOid: string;
  oid: string;
}

/**
 * What changed between two commits (committed content only), renames detected, under `pathspec`.
 * With `fromMergeBase`, from the merge base of `base` and `head` (one git process, not two).
 */
export async function committedChanges(
  git: Git,
  base: string,
  head: string,
  pathspec: string[] = [],
  options: { fromMergeBase?: boolean } = {},
): Promise<CommittedChange[]> {
  const merge = options.fromMergeBase ? ["--merge-base"] : [];
  const r = await git.run([
    "diff",
    "--raw",
    "-z",
    "-M",
    "--no-abbrev",
    ...merge,
    base,
    head,
    "--",
    ...pathspec,
  ]);
  if (!r.ok && /no merge base/i.test(r.stderr))
    throw new GitError(
      `no merge base between ${head.slice(0, 10)} and ${base.slice(0, 10)}: unrelated histories`,
      {
        hint: "Fetch main and branch from it (git fetch; git rebase origin/main).",
      },
    );
  if (!r.ok)
    throw new GitError(`git diff ${base.slice(0, 10)} ${head.slice(0, 10)} failed: ${r.stderr.trim()}`);
  const fields = r.stdout.split("\0");
  const out: CommittedChange[] = [];
  for (let i = 0; i < fields.length; ) {
    const meta = fields[i++]!;
    if (!meta.startsWith(":")) continue;
    const [oldMode, newMode, oldOid, oid, code] = meta.slice(1).split(" ");
    const status = code!.charAt(0) as CommittedChange["status"];
    const first = fields[i++]!;
    const second = status === "R" || status === "C" ? fields[i++]! : null;
    out.push({
      status,
      path: second ?? first,
      from: second === null ? null : first,
      oldMode: oldMode!,
      newMode: newMode!,
      oldOid: oldOid!,
      oid: oid!,
    });
  }
  return out;
}

/** Paths changed between two commits (names only), for a suite step's `when` filter. */
export async function committedPaths(git: Git, base: string, head: string): Promise<string[]> {
  const paths = new Set<string>();
  for (const c of await committedChanges(git, base, head)) {
    paths.add(c.path);
    if (c.from) paths.add(c.from);
  }
  return [...paths].sort();
}

/** A tracked file whose index flags hide its changes from `git status`. */
export interface HiddenFile {
  path: string;
  flag: "skip-worktree" | "assume-unchanged";
}

/** HEAD's commit and tree, what `git status` shows, and files whose index flags hide changes. */
export interface WorktreeState {
  head: string;
  tree: string;
  /** Paths with uncommitted changes (staged, unstaged, untracked; ignored files excluded). */
  dirtyPaths: string[];
  hidden: HiddenFile[];
}

/** One `git status` and one `git ls-files -v`: what the worktree holds beyond HEAD's commit. */
export async function worktreeState(git: Git): Promise<WorktreeState> {
  const [ids, status, flags] = await Promise.all([
    git.run(["rev-parse", "HEAD", "HEAD^{tree}"]),
    git.run(["status", "--porcelain=v1", "-z", "--untracked-files=normal"]),
    git.run(["ls-files", "-v", "-z"]),
  ]);
  if (!ids.ok) throw new GitError(`this worktree has no commit to judge: ${ids.stderr.trim()}`);
  if (!status.ok) throw new GitError(`git status failed: ${status.stderr.trim()}`);
  const [head, tree] = ids.stdout.trim().split("\n");
  return {
    head: head!,
    tree: tree!,
    dirtyPaths: statusPaths(status.stdout),
    hidden: hiddenFiles(flags.stdout),
  };
}

/** Paths of `git status --porcelain=v1 -z` (a rename's entry is followed by its source path). */
function statusPaths(out: string): string[] {
  const fields = out.split("\0");
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++;
  }
  return paths;
}

/** `git ls-files -v`: a lowercase tag is assume-unchanged, `S` is skip-worktree. */
function hiddenFiles(out: string): HiddenFile[] {
  const hidden: HiddenFile[] = [];
  for (const entry of out.split("\0")) {
    if (entry.length < 3) continue;
    const tag = entry[0]!;
    const path = entry.slice(2);
    if (tag === "S" || tag === "s") hidden.push({ path, flag: "skip-worktree" });
    else if (tag !== tag.toUpperCase()) hidden.push({ path, flag: "assume-unchanged" });
  }
  return hidden;
}

/** The checked-out commit and its tree. */
export async function headCommit(git: Git): Promise<{ head: string; tree: string }> {
  const r = await git.run(["rev-parse", "HEAD", "HEAD^{tree}"]);
  if (!r.ok) throw new GitError(`this checkout has no commit to check: ${r.stderr.trim()}`);
  const [head, tree] = r.stdout.trim().split("\n");
  return { head: head!, tree: tree! };
}

/** The tree id of a commit. */
export async function treeOf(git: Git, commit: string): Promise<string> {
  const r = await git.run(["rev-parse", `${commit}^{tree}`]);
  if (!r.ok) throw new GitError(`cannot read the tree of ${commit.slice(0, 10)}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** How many commits `head` has that `base` lacks. */
export async function commitsAhead(git: Git, base: string, head: string): Promise<number> {
  const r = await git.run(["rev-list", "--count", `${base}..${head}`]);
  if (!r.ok) throw new GitError(`git rev-list failed: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

/** The full sha of a commit named by a (possibly short) sha or ref; null when there is none. */
export async function resolveCommit(git: Git, name: string): Promise<string | null> {
  const r = await git.run(["rev-parse", "--verify", "--quiet", `${name}^{commit}`]);
  return r.ok ? r.stdout.trim() : null;
}
