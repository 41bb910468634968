import { posix } from "node:path";
import { mainFailureMeaning } from "../dryrun/baseline.js";
import { loadInputFiles } from "../dryrun/files.js";
import { rehearse } from "../dryrun/rehearse.js";
import type { DryRunDeps } from "../dryrun/service.js";
import { type GateFacts, gatherFacts } from "../gate/facts.js";
import { judge } from "../gate/service.js";
import { commitTarget } from "../gate/target.js";
import { type Catalog, catalogFromTree, forwardEntries } from "../migrations/catalog.js";
import { gatherRepoState, type RepoState } from "../repo/state.js";
import { namesDiffer } from "../slots/holders.js";
import type { CheckFinding, CheckName, CheckResult, CheckRun } from "./types.js";

/**
 * `mai-gate check` for CI. On the checked-out commit: every verdict condition that needs none of a
 * worker's records (the same engine as the gate: unparseable files, collisions with main,
 * production, other branches and other workers' leases, strict ordering, edits of applied
 * migrations); main's own directory (duplicates, unreadable names) and its history against
 * production (a name production knows differently crash-loops the next deploy); and a dry run of
 * main's pending migrations plus the branch's new files.
 */
export async function runCheck(
  ws: DryRunDeps,
  options: { dryRun: boolean; branch?: string | undefined },
): Promise<CheckResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  const target = await commitTarget(ws.git, state, options.branch);
  const facts = await gatherFacts(ws, state, target, "ci");
  const verdict = judge(facts);
  const runs: CheckRun[] = [];
  const findings: CheckFinding[] = [];
  const dir = state.config.migrations.dir;
  const added = new Set(facts.changes.added.map((f) => f.path));
  const catalog = await headCatalog(ws, state, target.head);
  const files = forwardEntries(catalog).map((e) => posix.join(dir, e.file));
  const addedFiles = [...added];
  await timed(runs, "catalog", files, async () => catalogFindings(catalog, dir, added, findings));
  await timed(runs, "history", files, async () => historyFindings(catalog, state, added, findings));
  for (const kind of ["unparseable", "collision", "no_edits"] as const) {
    await timed(runs, kind, kind === "no_edits" ? [] : addedFiles, async () => {
      for (const c of verdict.unmet.filter((x) => x.kind === kind)) {
        const message = `${c.rule ? `[${c.rule}] ` : ""}${c.detail}.${c.fix ? ` ${c.fix}` : ""}`;
        findings.push({ check: kind, severity: "error", file: c.file, line: c.file ? 1 : null, message });
      }
      return null;
    });
  }
  if (options.dryRun)
    await timed(runs, "dry_run", [], async (run) => dryRunFindings(ws, facts, findings, run));
  else runs.push({ check: "dry_run", status: "skipped", detail: "--no-dry-run", files: [], durationMs: 0 });
  for (const run of runs) {
    const mine = (f: CheckFinding) =>
      f.check === run.check || (run.check === "dry_run" && f.check === "main_pending");
    if (findings.some((f) => f.severity === "error" && mine(f))) run.status = "failed";
  }
  const p = state.production;
  return {
    passed: !findings.some((f) => f.severity === "error"),
    runs,
    findings,
    conditions: verdict.conditions,
    context: [
      `main ${state.main.ref} at ${state.main.sha.slice(0, 10)}; HEAD ${target.head.slice(0, 10)} on ${target.branch ?? "(detached)"}${target.worker ? ` (worker ${target.worker})` : ""}`,
      `production: ${p.status === "checked" ? `checked (${p.history.rows.length} applied, max ${p.history.maxVersion ?? "none"})` : p.status === "unreachable" ? `UNREACHABLE (${p.error})` : "not configured"}`,
      `config: ${facts.trust.source}`,
    ],
  };
}

async function timed(
  runs: CheckRun[],
  check: CheckName,
  files: string[],
  body: (run: CheckRun) => Promise<string | null>,
): Promise<void> {
  const started = performance.now();
  const run: CheckRun = { check, status: "passed", detail: "", files, durationMs: 0 };
  const skipped = await body(run);
  run.durationMs = performance.now() - started;
  if (skipped !== null) Object.assign(run, { status: "skipped", detail: skipped });
  runs.push(run);
}

/** The migration directory of the checked-out commit (committed content, not the disk). */
async function headCatalog(ws: DryRunDeps, state: RepoState, head: string): Promise<Catalog> {
  const scan = (await ws.scanner(state.config.migrations.dir).scan([head])).get(head);
  return catalogFromTree(scan?.entries ?? [], state.config.migrations);
}

/** Defects of the directory that are not about the branch's new files (the conditions cover those). */
function catalogFindings(catalog: Catalog, dir: string, added: Set<string>, out: CheckFinding[]): null {
  for (const d of catalog.defects) {
    if (d.kind === "unparseable") {
      const file = posix.join(dir, d.file);
      if (added.has(file)) continue;
      const held = d.version === null ? "" : `; its number ${d.version} still counts as taken`;
      out.push({
        check: "catalog",
        severity: "error",
        file,
        line: null,
        message: `${d.file}: ${d.reason}${held}`,
      });
      continue;
    }
    for (const file of d.files.slice(1)) {
      if (added.has(posix.join(dir, file))) continue;
      out.push({
        check: "catalog",
        severity: "error",
        file: posix.join(dir, file),
        line: 1,
        message: `version ${d.version} is used by ${d.files.join(" and ")}`,
      });
    }
  }
  return null;
}

/** Main's files (not the branch's new ones) against production's history: the first outage. */
function historyFindings(
  catalog: Catalog,
  state: RepoState,
  added: Set<string>,
  out: CheckFinding[],
): string | null {
  const p = state.production;
  const dir = state.config.migrations.dir;
  if (p.status === "not_configured") return p.reason;
  if (p.status === "unreachable") {
    out.push({
      check: "history",
      severity: "error",
      file: null,
      line: null,
      message: `production could not be read: ${p.error}`,
    });
    return null;
  }
  if (p.history.dirty)
    out.push({
      check: "history",
      severity: "error",
      file: null,
      line: null,
      message:
        "production's migration history is dirty: its migrator is stuck and the app will refuse to start",
    });
  if (!p.history.namesKnown) return `the ${p.history.format} history stores no names`;
  // Every name production applied a version under: a migrator that allows duplicates records several.
  const rows = new Map<number, (string | null)[]>();
  for (const r of p.history.rows) rows.set(r.version, [...(rows.get(r.version) ?? []), r.name]);
  for (const e of forwardEntries(catalog)) {
    const file = posix.join(dir, e.file);
    const applied = rows.get(e.version);
    if (added.has(file) || applied === undefined || applied.some((n) => !namesDiffer(n, e.name))) continue;
    out.push({
      check: "history",
      severity: "error",
      file,
      line: 1,
      message: `production applied version ${e.version} as ${applied.map((n) => `"${n}"`).join(" and ")}, this file names it "${e.name}": the migrator will refuse to start and the container will crash-loop. Reserve a new version (reserve_migration_slot) and rename the file.`,
    });
  }
  return null;
}

async function dryRunFindings(
  ws: DryRunDeps,
  facts: GateFacts,
  out: CheckFinding[],
  run: CheckRun,
): Promise<null> {
  const state = facts.state;
  const paths = facts.changes.added.map((f) => f.path);
  const files = await loadInputFiles(state.view.repo.root, paths, state);
  run.files = files.map((f) => f.path);
  for (const f of files) {
    if (f.sha256 !== facts.contents.get(f.path))
      out.push({
        check: "dry_run",
        severity: "error",
        file: f.path,
        line: null,
        message: "the file on disk differs from the commit: check a clean checkout of the commit",
      });
  }
  const r = await rehearse(ws, state, files, { commit: facts.target.head });
  run.detail = `${r.baseline.description} on ${r.engine.kind}; ${files.length} branch file(s)`;
  if (r.mainFailure) {
    const f = r.mainFailure;
    out.push({
      check: "main_pending",
      severity: "error",
      file: f.path,
      line: f.line,
      message: `${mainFailureMeaning(r.baseline.kind)}: ${f.message}${f.explanation ? ` (${f.explanation})` : ""}`,
    });
  }
  for (const q of r.smoke.filter((x) => x.status === "broken")) {
    out.push({
      check: "dry_run",
      severity: "error",
      file: q.brokenBy?.path ?? null,
      line: q.brokenBy?.line ?? null,
      message: `breaks smoke_sql "${q.query.slice(0, 200)}": ${q.error}`,
    });
  }
  for (const x of r.site.findings) {
    if (x.severity === "not_verified") continue;
    out.push({
      check: "dry_run",
      severity: x.severity === "red" ? "error" : "warning",
      file: x.file,
      line: x.line,
      message: `${x.message}${x.acknowledged ? ` (acknowledged: ${x.acknowledged})` : ""}${x.severity === "red" && x.fix ? ` ${x.fix}` : ""}`,
    });
  }
  for (const f of r.files) {
    if (!f.failure) continue;
    const why = f.failure.explanation ? ` — ${f.failure.explanation}` : "";
    out.push({
      check: "dry_run",
      severity: "error",
      file: f.path,
      line: f.failure.line,
      message: `${f.failure.sqlstate ? `[${f.failure.sqlstate}] ` : ""}${f.failure.message}${why}`,
    });
  }
  return null;
}
