import { loadModule, parseSync } from "libpg-query";
import picomatch from "picomatch";
import type { Deps } from "../deps.js";
import { GitError } from "../errors.js";
import { namesIn } from "./names.js";
import type { AppQuery } from "./types.js";

/** Bounds on `dry_run.queries`: files matched, bytes a file, statements in all. */
export const QUERY_FILES_MAX = 200;
export const QUERY_FILE_MAX_BYTES = 1024 * 1024;
export const QUERIES_MAX = 5000;

/** Statement kinds PREPARE accepts: the ones an app's binary sends. */
const PREPARABLE = new Set(["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);

const parsed = new Map<string, Set<string> | null>();

/**
 * The names a query spells when it is one statement PREPARE accepts, else null (parsed once per text).
 */
export async function queryNames(text: string): Promise<Set<string> | null> {
  let names = parsed.get(text);
  if (names === undefined) {
    await loadModule();
    try {
      const stmts = parseSync(text).stmts ?? [];
      const stmt = stmts.length === 1 ? stmts[0]?.stmt : undefined;
      const kind = stmt ? Object.keys(stmt)[0] : undefined;
      names = kind !== undefined && PREPARABLE.has(kind) ? namesIn(stmt) : null;
    } catch {
      names = null;
    }
    if (parsed.size > 20_000) parsed.clear();
    parsed.set(text, names);
  }
  return names;
}

/** Whether `text` is one statement PREPARE accepts. */
export async function preparable(text: string): Promise<boolean> {
  return (await queryNames(text)) !== null;
}

/**
 * sqlc's parameters as PREPARE's: `sqlc.arg(name)`, `sqlc.narg(name)`, `sqlc.slice(name)` and `@name`
 * become `$n`, one number per name, in order of first use.
 */
export function sqlcParameters(text: string): string {
  const numbers = new Map<string, number>();
  const number = (name: string) => {
    let n = numbers.get(name);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(name, n);
    }
    return `$${n}`;
  };
  return text.replace(
    /sqlc\.(?:n?arg|slice)\(\s*['"]?(\w+)['"]?\s*\)|(?<![\w@:$])@([A-Za-z_]\w*)/g,
    (_, call: string | undefined, at: string | undefined) => number(call ?? at ?? ""),
  );
}

/** The statements of one query file, each named by its sqlc `-- name:` annotation when it has one. */
export async function queriesOfFile(path: string, text: string): Promise<AppQuery[]> {
  await loadModule();
  let stmts: ReturnType<typeof parseSync>["stmts"];
  try {
    stmts = parseSync(text).stmts ?? [];
  } catch {
    return [];
  }
  const bytes = Buffer.from(text, "utf8");
  const out: AppQuery[] = [];
  let previousEnd = 0;
  for (const raw of stmts) {
    const from = raw.stmt_location ?? 0;
    const to = raw.stmt_len ? from + raw.stmt_len : bytes.length;
    // The `-- name:` annotation sits between the previous statement's end and this one's start.
    const before = bytes.toString("utf8", Math.min(previousEnd, from), from);
    const chunk = bytes.toString("utf8", from, to);
    previousEnd = to;
    const name = [...`${before}${chunk}`.matchAll(/--\s*name:\s*(\w+)/g)].at(-1)?.[1];
    const body = chunk
      .split("\n")
      .filter((line) => !/^\s*--/.test(line))
      .join("\n")
      .trim();
    if (!body) continue;
    const query = sqlcParameters(body);
    out.push({ text: query, calls: null, source: name ? `${path} (${name})` : path });
  }
  return out;
}

const listings = new Map<string, { path: string; oid: string; size: number }[]>();

/** Blobs of `commit` whose paths match the globs (cached by commit: a commit never changes). */
async function matchingFiles(git: Deps["git"], commit: string, globs: string[]) {
  let all = listings.get(commit);
  if (!all) {
    const r = await git.run(["ls-tree", "-r", "-l", "-z", commit], { timeoutMs: 20_000 });
    if (!r.ok) throw new GitError(`git ls-tree ${commit} failed: ${r.stderr.trim()}`);
    all = r.stdout
      .split("\0")
      .filter((line) => line.includes("\t"))
      .map((line) => {
        const [meta, path] = [line.slice(0, line.indexOf("\t")), line.slice(line.indexOf("\t") + 1)];
        const [, type, oid, size] = meta.split(/\s+/);
        return { path, oid: oid ?? "", size: Number(size), type };
      })
      .filter((e) => e.type === "blob")
      .map(({ path, oid, size }) => ({ path, oid, size }));
    if (listings.size > 50) listings.clear();
    listings.set(commit, all);
  }
  const match = picomatch(globs, { dot: true });
  return all.filter((e) => match(e.path));
}

/**
 * The queries of `dry_run.queries` files at `commit` (the commit being judged): at most
 * `QUERY_FILES_MAX` files of at most `QUERY_FILE_MAX_BYTES` each; what was left out is said.
 */
export async function readQueryFiles(
  ws: Pick<Deps, "git" | "blobTexts">,
  commit: string,
  globs: string[],
): Promise<{ queries: AppQuery[]; notes: string[] }> {
  if (globs.length === 0) return { queries: [], notes: [] };
  const notes: string[] = [];
  const files = await matchingFiles(ws.git, commit, globs);
  const big = files.filter((f) => f.size > QUERY_FILE_MAX_BYTES);
  if (big.length > 0) notes.push(`query files over 1 MiB are not read: ${big.map((f) => f.path).join(", ")}`);
  const kept = files.filter((f) => f.size <= QUERY_FILE_MAX_BYTES);
  if (kept.length > QUERY_FILES_MAX)
    notes.push(`dry_run.queries matches ${kept.length} files: only the first ${QUERY_FILES_MAX} are read`);
  const read = kept.slice(0, QUERY_FILES_MAX);
  if (read.length === 0)
    notes.push(`dry_run.queries (${globs.join(", ")}) matches no file at ${commit.slice(0, 10)}`);
  const texts = await ws.blobTexts(read.map((f) => f.oid));
  const queries: AppQuery[] = [];
  for (const f of read) queries.push(...(await queriesOfFile(f.path, texts.get(f.oid) ?? "")));
  return { queries, notes };
}
