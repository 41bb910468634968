import type { Deps } from "../deps.js";
import { CancelledError } from "../errors.js";
import { sha256 } from "../hash.js";
import type { RepoState } from "../repo/state.js";
import { otherBranches, otherBranchFindings } from "../site/other-branches.js";
import { SiteRehearsal } from "../site/site.js";
import type { SiteReport } from "../site/types.js";
import {
  abortable,
  type Explain,
  type FailureReport,
  type FileRun,
  type PreparedFile,
  type Probe,
  probes,
  runCommitting,
  runWarm,
} from "./apply.js";
import { type Baseline, type BaselineDeps, resolveBaseline } from "./baseline.js";
import type { ScratchEngine, TemplateOutcome } from "./engine.js";
import { explainFailure, indexSchemaChanges, type SchemaChange } from "./explain.js";
import type { InputFile } from "./files.js";
import { createdExtensions } from "./pglite-extensions.js";
import { type SmokeOutcome, smokeProbe } from "./smoke-sql.js";
import { analyzeSql, PsqlMetaCommandError, SqlSyntaxError } from "./sql.js";
import { type LintFinding, lintMigrations } from "./squawk.js";
import { baselineExtensions, ensureBaselineTemplate, MainMigrationError } from "./templates.js";

/** The parts of `Deps` this module uses. */
type Uses = BaselineDeps & Pick<Deps, "probeSource" | "scratchEngine">;

/** One file's rehearsal: how it ran and what squawk says about it. */
export interface RehearsedFile extends FileRun {
  path: string;
  version: number | null;
  name: string | null;
  sha256: string;
  lint: { findings: LintFinding[] } | { error: string };
}

export interface Rehearsal {
  engine: { kind: ScratchEngine["kind"]; serverVersionNum: number; limitations: string[] };
  baseline: Baseline;
  template: TemplateOutcome | null;
  mode: "warm" | "disposable" | "none";
  files: RehearsedFile[];
  /** A migration already on main that fails against the baseline (see `mainFailureMeaning`). */
  mainFailure: FailureReport | null;
  /** `smoke_sql` on the migrated clone: broken queries name the statement that broke them. */
  smoke: SmokeOutcome[];
  /** Site safety: does the site stay up after these files (live queries, locks, data, other branches)? */
  site: SiteReport;
}

/** Main's schema changes, by the content of main's migrations: parsed once per main. */
const changeIndex = new Map<string, Promise<SchemaChange[]>>();

/**
 * Applies `files` on a clone of the baseline plus main's pending migrations, with the app's
 * transaction semantics, explaining failures from main's history and linting with squawk.
 * Shared by the worker's dry run and `mai-gate check`.
 */
export async function rehearse(
  ws: Uses,
  state: RepoState,
  files: InputFile[],
  options: { signal?: AbortSignal | undefined; commit: string },
): Promise<Rehearsal> {
  const { signal } = options;
  const site = new SiteRehearsal(ws, state, options.commit);
  const engine = await ws.scratchEngine(state.view.loaded);
  const baseline = await resolveBaseline(ws, state);
  const changes = await indexChanges(baseline);
  const explain: Explain = (facts) =>
    explainFailure(facts, changes) ?? privilegeNote(facts.sqlstate, engine.kind);
  const linting = lintMigrations(files, {
    assumeInTransaction: state.config.migrations.transaction === "per-file",
    ignore: state.config.dry_run.lint.ignore,
  });
  const prepared = await prepare(files);
  const ran = prepared.flatMap((p) => (p.ok ? [p.file] : []));
  site.probeData(ran);
  const smoke = smokeProbe(state.config.smoke_sql ?? []);
  const smoking = (state.config.smoke_sql?.length ?? 0) > 0;
  const probe = probes(smoking ? smoke.probe : undefined, await site.probe(ran));
  const [result, lint] = await Promise.all([
    execute(engine, baseline, prepared, state, explain, probe, signal),
    linting,
  ]);
  const siteReport = await site.finish(ran, result.mode !== "none");
  if (site.enabled && result.template && result.runs.every((r) => r.status === "applied")) {
    const others = await rehearseOthers(ws, state, engine, result.template, ran, signal);
    siteReport.findings.push(...others.findings);
    siteReport.notes.push(...others.notes);
  }
  return {
    engine: {
      kind: engine.kind,
      serverVersionNum: await engine.serverVersionNum(),
      limitations: engine.limitations,
    },
    baseline,
    template: result.template,
    mode: result.mode,
    files: files.map((f, i) => ({
      path: f.path,
      version: f.version,
      name: f.name,
      sha256: f.sha256,
      ...(result.runs[i] ?? parseRun(prepared[i]!)),
      lint: lint.ok ? { findings: lint.findings.get(f.path) ?? [] } : { error: lint.error },
    })),
    mainFailure: result.mainFailure,
    smoke: smoking && result.mode !== "none" ? smoke.outcomes() : [],
    site: siteReport,
  };
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
  mode: Rehearsal["mode"];
  mainFailure: FailureReport | null;
}

async function execute(
  engine: ScratchEngine,
  baseline: Baseline,
  prepared: Prepared[],
  state: RepoState,
  explain: Explain,
  probe: Probe | undefined,
  signal: AbortSignal | undefined,
): Promise<Execution> {
  if (prepared.some((p) => !p.ok)) return { runs: [], template: null, mode: "none", mainFailure: null };
  const files = prepared.map((p) => (p as { ok: true; file: PreparedFile }).file);
  let template: TemplateOutcome;
  try {
    const extensions =
      engine.kind === "pglite"
        ? [
            ...(await baselineExtensions(baseline)),
            ...files.flatMap((f) => createdExtensions(f.analysis.statements)),
          ]
        : [];
    template = await ensureBaselineTemplate(engine, baseline, explain, extensions);
  } catch (err) {
    if (!(err instanceof MainMigrationError)) throw err;
    return { runs: [], template: null, mode: "none", mainFailure: err.failure };
  }
  // A template is shared work that others wait for: it is finished, and the caller's abort is
  // honoured from here on (before each statement, and by cancelling the one running).
  if (signal?.aborted) throw new CancelledError("the dry run");
  const transaction = state.config.migrations.transaction;
  const needsCommit = files.some((f) => f.analysis.nonTransactional.length > 0);
  if (!needsCommit) {
    const runs = await engine.withWarmClone(template.instance ?? template.key, (s) =>
      runWarm(abortable(s, signal), files, explain, probe),
    );
    return { runs, template, mode: "warm", mainFailure: null };
  }
  const runs = await engine.withDisposableClone(template.instance ?? template.key, (s) =>
    runCommitting(abortable(s, signal), files, transaction, explain, probe),
  );
  return { runs, template, mode: "disposable", mainFailure: null };
}

/**
 * The branch's files after each of the other open branches' unmerged migrations (`dry_run.other_branches`),
 * on clones of the same template: what fails only after theirs is a warning for both workers.
 */
async function rehearseOthers(
  ws: Uses,
  state: RepoState,
  engine: ScratchEngine,
  template: TemplateOutcome,
  mine: PreparedFile[],
  signal: AbortSignal | undefined,
) {
  const others = await otherBranches(ws, state, mine, state.config.dry_run.other_branches);
  const key = template.instance ?? template.key;
  return otherBranchFindings(others, mine, (files, explain) => {
    if (files.some((f) => f.analysis.nonTransactional.length > 0))
      return engine.withDisposableClone(key, (s) =>
        runCommitting(abortable(s, signal), files, state.config.migrations.transaction, explain),
      );
    return engine.withWarmClone(key, (s) => runWarm(abortable(s, signal), files, explain));
  });
}

/** 42501 on the scratch server: the role is unprivileged by design, so a migration cannot leave its clone. */
function privilegeNote(sqlstate: string, kind: ScratchEngine["kind"]): string | null {
  if (sqlstate !== "42501" || kind !== "postgres") return null;
  return "dry runs run as an unprivileged role on purpose (no superuser, no server programs or files, no untrusted extensions), so a migration cannot reach outside its clone; if production's migrator really needs this privilege, make it a reviewed step, and put it in scratch.prelude for rehearsals";
}
