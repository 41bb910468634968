import { isAbsolute, resolve } from "node:path";
import { GitError, NotARepositoryError } from "../errors.js";
import type { Git } from "./git.js";

export interface RepoInfo {
  /** The worktree's top level. */
  root: string;
  /** The directory every worktree of the repository shares (`git rev-parse --git-common-dir`). */
  commonDir: string;
}

export async function repoInfo(git: Git): Promise<RepoInfo> {
  const r = await git.run(["rev-parse", "--show-toplevel", "--git-common-dir"]);
  if (!r.ok) throw new NotARepositoryError(git.cwd, r.stderr.trim());
  const [root, common] = r.stdout.trim().split("\n");
  if (!root || !common) throw new NotARepositoryError(git.cwd, r.stdout);
  return { root, commonDir: isAbsolute(common) ? common : resolve(git.cwd, common) };
}

/** Every branch ref at one moment, with the branch this worktree has checked out. */
export interface RefSnapshot {
  /** Short ref name (`origin/main`, `mai/ann/fix`) → commit sha. */
  refs: Map<string, string>;
  /** Short names of remote-tracking refs (`origin/…`). */
  remote: Set<string>;
  /** The branch checked out in this worktree; null when HEAD is detached. */
  head: string | null;
  /** A key that changes whenever any ref moves. */
  key: string;
}

export async function readRefs(git: Git): Promise<RefSnapshot> {
  const r = await git.run([
    "for-each-ref",
    "--format=%(objectname) %(HEAD) %(refname)",
    "refs/heads",
    "refs/remotes",
  ]);
  if (!r.ok) throw new GitError(`git for-each-ref failed: ${r.stderr.trim()}`);
  const refs = new Map<string, string>();
  const remote = new Set<string>();
  let current: string | null = null;
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const sha = line.slice(0, line.indexOf(" "));
    const marker = line.charAt(sha.length + 1);
    const full = line.slice(sha.length + 3);
    if (full.endsWith("/HEAD")) continue;
    let short: string;
    if (full.startsWith("refs/heads/")) {
      short = full.slice("refs/heads/".length);
      if (marker === "*") current = short;
    } else {
      short = full.slice("refs/remotes/".length);
      remote.add(short);
    }
    refs.set(short, sha);
  }
  return {
    refs,
    remote,
    head: current,
    key: r.stdout,
  };
}

/** The text of `path` at `ref`, or null when the file is not there. */
export async function showFile(git: Git, ref: string, path: string): Promise<string | null> {
  const r = await git.run(["show", `${ref}:${path}`]);
  return r.ok ? r.stdout : null;
}

/** A file read from a commit within limits: its text, or why it was not read. */
export type BoundedShow =
  | { ok: true; text: string }
  | { ok: false; reason: "missing" }
  | { ok: false; reason: "not_a_file"; type: string }
  | { ok: false; reason: "too_large"; size: number };

/**
 * The text of `path` at `ref`, read only when it is a file (a blob) of at most `maxBytes`: its
 * type and size are asked first, so a huge blob is never read.
 */
export async function showFileBounded(
  git: Git,
  ref: string,
  path: string,
  maxBytes: number,
  timeoutMs: number,
): Promise<BoundedShow> {
  const spec = `${ref}:${path}`;
  if (spec.includes("\n")) return { ok: false, reason: "missing" };
  const check = await git.run(["cat-file", "--batch-check=%(objecttype) %(objectsize)"], {
    input: `${spec}\n`,
    timeoutMs,
  });
  if (!check.ok) throw new GitError(`git cat-file failed: ${check.stderr.trim()}`);
  // `<type> <size>`, or `<spec> missing` (or `ambiguous`) when there is no such object.
  const found = /^([a-z]+) (\d+)$/.exec(check.stdout.trim());
  if (!found) return { ok: false, reason: "missing" };
  const [, type = "", size = "0"] = found;
  if (type !== "blob") return { ok: false, reason: "not_a_file", type };
  if (Number(size) > maxBytes) return { ok: false, reason: "too_large", size: Number(size) };
  const r = await git.run(["cat-file", "blob", spec], { timeoutMs });
  if (!r.ok) throw new GitError(`git cat-file blob ${spec} failed: ${r.stderr.trim() || "timed out"}`);
  return { ok: true, text: r.stdout };
}

export type FetchOutcome =
  | { status: "fetched"; remote: string; ms: number }
  | { status: "skipped"; reason: string }
  | { status: "failed"; remote: string; error: string };

/** `git fetch --prune` bounded by a timeout; an offline remote is an outcome, not an exception. */
export async function fetchRemote(git: Git, remote: string, timeoutMs: number): Promise<FetchOutcome> {
  const started = Date.now();
  const r = await git.run(["fetch", "--prune", "--quiet", "--no-tags", remote], { timeoutMs });
  if (r.ok) return { status: "fetched", remote, ms: Date.now() - started };
  const error = r.timedOut
    ? `timed out after ${timeoutMs} ms`
    : r.stderr.trim().split("\n").slice(-1)[0] || "failed";
  return { status: "failed", remote, error };
}
