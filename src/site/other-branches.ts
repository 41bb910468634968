import { posix } from "node:path";
import type { Deps } from "../deps.js";
import type { Explain, FileRun, PreparedFile } from "../dryrun/apply.js";
import { explainFailure, indexSchemaChanges } from "../dryrun/explain.js";
import { analyzeSql } from "../dryrun/sql.js";
import { CancelledError, errorMessage } from "../errors.js";
import { sha256 } from "../hash.js";
import { deltaAgainst } from "../migrations/catalog.js";
import type { RepoState } from "../repo/state.js";
import type { SiteFinding } from "./types.js";

/** Another open branch's unmerged migrations, as committed on it. */
export interface OtherBranch {
  /** The branch as people name it (`mai/bob/x`, without the remote). */
  name: string;
  files: PreparedFile[];
}

/** Runs files on a fresh clone of the rehearsal's template (theirs, then the branch's). */
export type RunAfter = (files: PreparedFile[], explain: Explain) => Promise<FileRun[]>;

const short = (ref: string, state: RepoState) =>
  state.view.refs.remote.has(ref) ? ref.slice(ref.indexOf("/") + 1) : ref;

/**
 * Up to `limit` other branches that carry migrations main does not have, those whose first new
 * version sorts first; not this branch (nor its remote copy), each branch once however many refs
 * name it. Their files are read at the branch's commit.
 */
export async function otherBranches(
  ws: Pick<Deps, "blobTexts">,
  state: RepoState,
  mine: PreparedFile[],
  limit: number,
): Promise<OtherBranch[]> {
  if (limit === 0) return [];
  const myBranch = state.view.identity.branch;
  const myFiles = new Set(mine.map((f) => f.path));
  const dir = state.config.migrations.dir;
  const seen = new Set<string>();
  const found: {
    name: string;
    first: number;
    entries: { path: string; oid: string; version: number; name: string }[];
  }[] = [];
  for (const b of state.branches) {
    const name = short(b.ref, state);
    if (name === myBranch || seen.has(name)) continue;
    const entries = deltaAgainst(b.catalog, state.main.catalog)
      .filter((h) => !h.unparsed && h.oid && !myFiles.has(posix.join(dir, h.file)))
      .map((h) => ({ path: posix.join(dir, h.file), oid: h.oid!, version: h.version, name: h.name ?? "" }))
      .sort((a, b) => a.version - b.version);
    if (entries.length === 0) continue;
    seen.add(name);
    found.push({ name, first: entries[0]!.version, entries });
  }
  found.sort((a, b) => a.first - b.first || a.name.localeCompare(b.name));
  const chosen = found.slice(0, limit);
  const texts = await ws.blobTexts(chosen.flatMap((c) => c.entries.map((e) => e.oid)));
  const out: OtherBranch[] = [];
  for (const c of chosen) {
    const files: PreparedFile[] = [];
    for (const e of c.entries) {
      const text = texts.get(e.oid) ?? "";
      try {
        files.push({
          path: e.path,
          version: e.version,
          name: e.name,
          sha256: sha256(text),
          text,
          analysis: await analyzeSql(text),
        });
      } catch {
        files.length = 0;
        break;
      }
    }
    if (files.length > 0) out.push({ name: c.name, files });
  }
  return out;
}

/**
 * Rehearses the branch's files after each other branch's: where theirs apply and the branch's then
 * fail, a warning for both workers ("if mai/bob/x merges first, yours fails: …"), never red.
 */
export async function otherBranchFindings(
  others: OtherBranch[],
  mine: PreparedFile[],
  run: RunAfter,
): Promise<{ findings: SiteFinding[]; notes: string[] }> {
  const findings: SiteFinding[] = [];
  const notes: string[] = [];
  for (const other of others) {
    const changes = await indexSchemaChanges(
      other.files.map((f) => ({ file: f.path.split("/").at(-1)!, version: f.version ?? 0, sql: f.text })),
    );
    const explain: Explain = (facts) => explainFailure(facts, changes);
    let runs: FileRun[];
    try {
      runs = await run([...other.files, ...mine], explain);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      notes.push(`your files could not be rehearsed after ${other.name}'s: ${errorMessage(err)}`);
      continue;
    }
    const failed = runs.findIndex((r) => r.status === "failed");
    if (failed < 0) continue;
    if (failed < other.files.length) {
      notes.push(
        `${other.name}'s own migrations fail on main's schema, so yours were not rehearsed after them`,
      );
      continue;
    }
    const f = runs[failed]!.failure!;
    const why = f.explanation
      ? ` (${f.explanation.replace(/migration `([^`]+)`/, `migration \`$1\` of ${other.name}`)})`
      : "";
    findings.push({
      check: "other_branch",
      severity: "warning",
      file: f.path,
      line: f.line,
      message: `if ${other.name} merges first, yours fails: ${f.path.split("/").at(-1)}:${f.line}: ${f.message}${why}`,
      fix: `Agree on an order with ${other.name}'s worker: rebase on main once theirs has merged and dry-run again, or write yours so it applies either way (IF EXISTS, no dependence on what theirs drops).`,
      acknowledged: null,
    });
  }
  return { findings, notes };
}
