import { randomUUID } from "node:crypto";
import type { Deps } from "../deps.js";
import { InputError } from "../errors.js";
import type { GateDeps } from "../gate/service.js";
import { headCommit } from "../git/changes.js";
import { gitBlobId } from "../hash.js";
import { actorOf, requireRole, requireWorkerId } from "../identity.js";
import { gatherRepoState, type RepoState } from "../repo/state.js";
import { type SiteFinding, type SiteReport, siteRed } from "../site/types.js";
import type { DryRunRecord } from "../store/types.js";
import type { FailureReport } from "./apply.js";
import type { Baseline } from "./baseline.js";
import type { ScratchEngine, TemplateOutcome } from "./engine.js";
import { branchMigrationPaths, loadInputFiles } from "./files.js";
import { type RehearsedFile, rehearse } from "./rehearse.js";
import { type SlotCheck, slotChecks } from "./slot-checks.js";
import type { SmokeOutcome } from "./smoke-sql.js";

/** What a dry run uses of `Deps`: what a gate does, and the scratch engine. */
export type DryRunDeps = GateDeps & Pick<Deps, "probeSource" | "scratchEngine">;

export interface FileReport extends RehearsedFile {
  slots: SlotCheck[];
  /** Site-safety findings this file is responsible for (recorded: deploy status and lease review read them). */
  site: SiteFinding[];
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
  /** A migration already on main that fails against the baseline (see `mainFailureMeaning`). */
  mainFailure: FailureReport | null;
  /** `smoke_sql` outcomes; a broken query makes the run red and fails the file that broke it. */
  smoke: SmokeOutcome[];
  /** Site safety: a red finding makes the run red and fails the file responsible. */
  site: SiteReport;
  warnings: string[];
}

/**
 * Rehearses the branch's migrations (see `rehearse`), runs the slot checks, records each file's
 * outcome for the completion gate, and leaves nothing behind.
 */
export async function dryRun(
  ws: DryRunDeps,
  input: { files?: string[] | undefined; signal?: AbortSignal | undefined },
): Promise<DryRunResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  requireRole(state.view.identity, ["worker"], "dry-run migrations");
  const worker = requireWorkerId(state.view.identity);
  const paths = input.files?.length ? input.files : await branchMigrationPaths(ws.git, state);
  if (paths.length === 0) {
    throw new InputError(
      `no new or changed migration files under ${state.config.migrations.dir} since the merge base with ${state.main.ref}`,
      "Create the file reserve_migration_slot named, or pass files explicitly.",
    );
  }
  const files = await loadInputFiles(state.view.repo.root, paths, state);
  const { head } = await headCommit(ws.git);
  const [r, open] = await Promise.all([
    rehearse(ws, state, files, { signal: input.signal, commit: head }),
    state.store.listLeases({ includeEnded: false, limit: 10_000 }),
  ]);
  const idBytes = (state.main.sha.length || 40) / 2;
  const subjects = files.map((f) => ({ ...f, oid: gitBlobId(f.text, idBytes) }));
  const now = ws.clock.now();
  const reports = r.files.map(
    (f, i): FileReport => ({
      ...f,
      slots: slotChecks(subjects[i]!, subjects, state, open, worker, now),
      site: r.site.findings.filter((x) => x.file === f.path),
    }),
  );
  const out: DryRunResult = {
    runId: `D${randomUUID().replaceAll("-", "").slice(0, 12)}`,
    worker,
    branch: state.view.identity.branch,
    passed:
      r.mainFailure === null &&
      !r.smoke.some((q) => q.status === "broken") &&
      !siteRed(r.site) &&
      reports.every((f) => f.status === "applied" && f.slots.every((c) => c.passed)),
    engine: r.engine,
    baseline: {
      kind: r.baseline.kind,
      id: r.baseline.id,
      description: r.baseline.description,
      pending: r.baseline.pending.map((m) => m.path),
      notes: r.baseline.notes,
    },
    template: r.template,
    mode: r.mode,
    files: reports,
    mainFailure: r.mainFailure,
    smoke: r.smoke,
    site: r.site,
    warnings: r.site.findings.filter((x) => x.severity === "warning").map((x) => x.message),
  };
  await record(ws, state, out);
  return out;
}

async function record(ws: DryRunDeps, state: RepoState, result: DryRunResult): Promise<void> {
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
      brokeSmoke(result, f.path) || f.site.some((x) => x.severity === "red")
        ? "failed"
        : f.status === "applied" && !result.mainFailure
          ? "passed"
          : f.status === "failed"
            ? "failed"
            : "not_run",
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

/** The file broke a `smoke_sql` query: its record is a failure, whatever else it did. */
function brokeSmoke(result: DryRunResult, path: string): boolean {
  return result.smoke.some((q) => q.status === "broken" && q.brokenBy?.path === path);
}
