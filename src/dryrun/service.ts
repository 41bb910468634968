import { randomUUID } from "node:crypto";
import { InputError } from "../errors.js";
import { sha256 } from "../hash.js";
import { actorOf, requireRole, requireWorkerId } from "../identity.js";
import { gatherRepoState, type RepoState } from "../slots/sources.js";
import type { DryRunRecord } from "../store/types.js";
import type { Workspace } from "../workspace.js";
import {
  type Explain,
  type FailureReport,
  type FileRun,
  type PreparedFile,
  runCommitting,
  runWarm,
} from "./apply.js";
import { type Baseline, resolveBaseline } from "./baseline.js";
import type { ScratchEngine, TemplateOutcome } from "./engine.js";
import { explainFailure, indexSchemaChanges, type SchemaChange } from "./explain.js";
import { branchMigrationPaths, type InputFile, loadInputFiles } from "./files.js";
import { type SlotCheck, slotChecks } from "./slot-checks.js";
import { analyzeSql, PsqlMetaCommandError, SqlSyntaxError } from "./sql.js";
import { type LintFinding, lintMigrations } from "./squawk.js";
import { ensureBaselineTemplate, MainMigrationError } from "./templates.js";

export interface FileReport extends FileRun {
  path: string;
  version: number | null;
  name: string | null;
  sha256: string;
  slots: SlotCheck[];
  lint: { findings: LintFinding[] } | { error: string };
}

export interface DryRunResult {
  runId: string;
  worker: string;
  branch: string | null;
  passed: boolean;
  engine: { kind: ScratchEngine["kind"]; serverVersionNum: number; limitations: string[] };
  baseline: { kind: Baseline["kind"]; id: string; description: string; pending: string[]; notes: string[] };
  template: TemplateOutcome | null;
  mode: "warm" | "disposable" | "none";
  files: FileReport[];
  /** A migration already on main that fails against the baseline: the next deploy fails there. */
  mainFailure: FailureReport | null;
  warnings: string[];
}

/** Main's schema changes, by the content of main's migrations: parsed once per main. */
const changeIndex = new Map<string, Promise<SchemaChange[]>>();

/**
 * Rehearses the branch's migrations on a clone of the baseline plus main's pending migrations, with
 * the app's transaction semantics; reports per file, explains failures from main's history, runs the
 * slot checks, records each file's outcome, and leaves nothing behind.
 */
export async function dryRun(ws: Workspace, input: { files?: string[] | undefined }): Promise<DryRunResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  requireRole(state.view.identity, ["worker"], "dry-run migrations");
  const worker = requireWorkerId(state.view.identity);
  const root = state.view.repo.root;
  const paths = input.files?.length ? input.files : await branchMigrationPaths(ws.git, state);
  if (paths.length === 0) {
    throw new InputError(
      `no new or changed migration files under ${state.config.migrations.dir} since the merge base with ${state.main.ref}`,
      "Create the file reserve_migration_slot named, or pass files explicitly.",
    );
  }
  const files = await loadInputFiles(root, paths, state);
  const engine = await ws.scratchEngine(state.view.loaded);
  const baseline = await resolveBaseline(ws, state);
  const changes = await indexChanges(baseline);
  const explain: Explain = (facts) => explainFailure(facts, changes);
  const linting = lintMigrations(files, {
    assumeInTransaction: state.config.migrations.transaction === "per-file",
  });
  const [prepared, open] = await Promise.all([
    prepare(files),
    state.store.listLeases({ includeEnded: false, limit: 10_000 }),
  ]);
  const [result, lint] = await Promise.all([execute(engine, baseline, prepared, state, explain), linting]);
  const reports = files.map((f, i): FileReport => {
    const run = result.runs[i] ?? parseRun(prepared[i]!);
    return {
      path: f.path,
      version: f.version,
      name: f.name,
      sha256: f.sha256,
      ...run,
      slots: slotChecks(f, state, open, worker),
      lint: lint.ok ? { findings: lint.findings.get(f.path) ?? [] } : { error: lint.error },
    };
  });
  const out: DryRunResult = {
    runId: `D${randomUUID().replaceAll("-", "").slice(0, 12)}`,
    worker,
    branch: state.view.identity.branch,
    passed:
      result.mainFailure === null &&
      reports.every((r) => r.status === "applied" && r.slots.every((s) => s.passed)),
    engine: {
      kind: engine.kind,
      serverVersionNum: await engine.serverVersionNum(),
      limitations: engine.limitations,
    },
    baseline: {
      kind: baseline.kind,
      id: baseline.id,
      description: baseline.description,
      pending: baseline.pending.map((m) => m.path),
      notes: baseline.notes,
    },
    template: result.template,
    mode: result.mode,
    files: reports,
    mainFailure: result.mainFailure,
    warnings: [],
  };
  await record(ws, state, out);
  return out;
}

function indexChanges(baseline: Baseline): Promise<SchemaChange[]> {
  const key = sha256(baseline.main.map((m) => `${m.path}:${m.sha256}`).join("\n"));
  let p = changeIndex.get(key);
  if (!p) {
    p = indexSchemaChanges(
      baseline.main.map((m) => ({ file: m.path.split("/").at(-1)!, version: m.version, sql: m.text })),
    );
    if (changeIndex.size > 20) changeIndex.clear();
    changeIndex.set(key, p);
  }
  return p;
}

type Prepared = { ok: true; file: PreparedFile } | { ok: false; failure: FailureReport };

async function prepare(files: InputFile[]): Promise<Prepared[]> {
  return Promise.all(
    files.map(async (f): Promise<Prepared> => {
      try {
        return { ok: true, file: { ...f, analysis: await analyzeSql(f.text) } };
      } catch (err) {
        if (!(err instanceof SqlSyntaxError) && !(err instanceof PsqlMetaCommandError)) throw err;
        const message = err instanceof SqlSyntaxError ? err.parserMessage : err.message;
        return {
          ok: false,
          failure: {
            path: f.path,
            line: err.line,
            column: err.column,
            statement: f.text.split("\n")[err.line - 1] ?? "",
            sqlstate: err instanceof SqlSyntaxError ? "42601" : null,
            message,
            detail: null,
            hint: err.hint ?? null,
            explanation: null,
          },
        };
      }
    }),
  );
}

function parseRun(p: Prepared): FileRun {
  if (p.ok) return { status: "not_run", durationMs: null, ran: null, locks: null, failure: null, notes: [] };
  return {
    status: "failed",
    durationMs: null,
    ran: null,
    locks: null,
    failure: p.failure,
    notes: ["the file does not parse: nothing was run"],
  };
}

interface Execution {
  runs: FileRun[];
  template: TemplateOutcome | null;
  mode: DryRunResult["mode"];
  mainFailure: FailureReport | null;
}

async function execute(
  engine: ScratchEngine,
  baseline: Baseline,
  prepared: Prepared[],
  state: RepoState,
  explain: Explain,
): Promise<Execution> {
  if (prepared.some((p) => !p.ok)) return { runs: [], template: null, mode: "none", mainFailure: null };
  const files = prepared.map((p) => (p as { ok: true; file: PreparedFile }).file);
  let template: TemplateOutcome;
  try {
    template = await ensureBaselineTemplate(engine, baseline, explain);
  } catch (err) {
    if (!(err instanceof MainMigrationError)) throw err;
    return { runs: [], template: null, mode: "none", mainFailure: err.failure };
  }
  const transaction = state.config.migrations.transaction;
  const needsCommit = files.some((f) => f.analysis.nonTransactional.length > 0);
  if (!needsCommit) {
    const runs = await engine.withWarmClone(template.key, (s) => runWarm(s, files, explain));
    return { runs, template, mode: "warm", mainFailure: null };
  }
  const runs = await engine.withDisposableClone(template.key, (s) =>
    runCommitting(s, files, transaction, explain),
  );
  return { runs, template, mode: "disposable", mainFailure: null };
}

async function record(ws: Workspace, state: RepoState, result: DryRunResult): Promise<void> {
  const now = ws.clock.now();
  const records: DryRunRecord[] = result.files.map((f) => ({
    runId: result.runId,
    file: f.path,
    worker: result.worker,
    branch: result.branch,
    version: f.version,
    name: f.name,
    sha256: f.sha256,
    baselineId: result.baseline.id,
    templateKey: result.template?.key ?? null,
    engine: result.engine.kind,
    outcome:
      f.status === "applied" && !result.mainFailure ? "passed" : f.status === "failed" ? "failed" : "not_run",
    report: f,
    createdAt: now,
  }));
  await state.store.recordDryRun(records, {
    actor: actorOf(state.view.identity),
    role: state.view.identity.role,
    action: "dryrun.record",
    subject: result.runId,
    detail: { passed: result.passed, files: result.files.map((f) => f.path), baseline: result.baseline.id },
  });
}
