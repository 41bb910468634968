import { readdir } from "node:fs/promises";
import { join, posix } from "node:path";
import { branchMigrationPaths, loadInputFiles } from "../dryrun/files.js";
import { rehearse } from "../dryrun/rehearse.js";
import { buildCatalog, type Catalog, forwardEntries } from "../migrations/catalog.js";
import { namesDiffer } from "../slots/holders.js";
import { gatherRepoState, type RepoState } from "../slots/sources.js";
import type { Workspace } from "../workspace.js";
import type { CheckFinding, CheckName, CheckResult, CheckRun } from "./types.js";

/**
 * `mai-gate check` for CI: the catalog of the checked-out migration directory, the history check
 * against production (a version whose name differs from production's row is the first outage),
 * collisions with main, and a dry run of main's pending migrations plus the branch's new ones.
 */
export async function runCheck(ws: Workspace, options: { dryRun: boolean }): Promise<CheckResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  const runs: CheckRun[] = [];
  const findings: CheckFinding[] = [];
  const dir = state.config.migrations.dir;
  const catalog = await diskCatalog(state);
  const files = forwardEntries(catalog).map((e) => posix.join(dir, e.file));
  await timed(runs, "catalog", files, async () => catalogFindings(catalog, dir, findings));
  await timed(runs, "history", files, async () => historyFindings(catalog, state, findings));
  await timed(runs, "collisions", files, async () => collisionFindings(catalog, state, findings));
  if (options.dryRun)
    await timed(runs, "dry_run", [], async (run) => dryRunFindings(ws, state, findings, run));
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
    context: [
      `main ${state.main.ref} at ${state.main.sha.slice(0, 10)}; HEAD ${state.view.identity.branch ?? "(detached)"}`,
      `production: ${p.status === "checked" ? `checked (${p.history.rows.length} applied, max ${p.history.maxVersion ?? "none"})` : p.status === "unreachable" ? `UNREACHABLE (${p.error})` : "not configured"}`,
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

async function diskCatalog(state: RepoState): Promise<Catalog> {
  const dir = join(state.view.repo.root, state.config.migrations.dir);
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return buildCatalog(
    names.filter((d) => d.isFile()).map((d) => ({ file: d.name })),
    state.config.migrations,
  );
}

function catalogFindings(catalog: Catalog, dir: string, out: CheckFinding[]): null {
  for (const d of catalog.defects) {
    if (d.kind === "unparseable")
      out.push({
        check: "catalog",
        severity: "error",
        file: posix.join(dir, d.file),
        line: null,
        message: `${d.file}: ${d.reason}`,
      });
    else {
      for (const file of d.files.slice(1)) {
        out.push({
          check: "catalog",
          severity: "error",
          file: posix.join(dir, file),
          line: 1,
          message: `version ${d.version} is used by ${d.files.join(" and ")}`,
        });
      }
    }
  }
  return null;
}

function historyFindings(catalog: Catalog, state: RepoState, out: CheckFinding[]): string | null {
  const p = state.production;
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
  const rows = new Map(p.history.rows.map((r) => [r.version, r.name]));
  for (const e of forwardEntries(catalog)) {
    const applied = rows.get(e.version);
    if (applied !== undefined && namesDiffer(applied, e.name)) {
      out.push({
        check: "history",
        severity: "error",
        file: posix.join(state.config.migrations.dir, e.file),
        line: 1,
        message: `production applied version ${e.version} as "${applied}", this file names it "${e.name}": the migrator will refuse to start and the container will crash-loop. Reserve a new version (reserve_migration_slot) and rename the file.`,
      });
    }
  }
  return null;
}

function collisionFindings(catalog: Catalog, state: RepoState, out: CheckFinding[]): null {
  for (const e of forwardEntries(catalog)) {
    const onMain = (state.main.catalog.byVersion.get(e.version) ?? []).filter((m) => m.direction !== "down");
    const clash = onMain.find((m) => namesDiffer(m.name, e.name));
    if (clash) {
      out.push({
        check: "collisions",
        severity: "error",
        file: posix.join(state.config.migrations.dir, e.file),
        line: 1,
        message: `main already has version ${e.version} as ${clash.file}: two migrations cannot share a version. Reserve a new version and rename this file.`,
      });
    }
  }
  return null;
}

async function dryRunFindings(
  ws: Workspace,
  state: RepoState,
  out: CheckFinding[],
  run: CheckRun,
): Promise<null> {
  const paths = await branchMigrationPaths(ws.git, state).catch(() => []);
  const files = await loadInputFiles(state.view.repo.root, paths, state);
  run.files = files.map((f) => f.path);
  const r = await rehearse(ws, state, files);
  run.detail = `${r.baseline.description} on ${r.engine.kind}; ${files.length} branch file(s)`;
  if (r.mainFailure) {
    const f = r.mainFailure;
    out.push({
      check: "main_pending",
      severity: "error",
      file: f.path,
      line: f.line,
      message: `main's pending migration fails against the baseline: ${f.message}${f.explanation ? ` (${f.explanation})` : ""}`,
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
