import { join } from "node:path";
import { readBoundedText } from "../bounded-read.js";
import { describeSource } from "../config/load.js";
import type { BaselineDeps } from "../dryrun/baseline.js";
import { committedChanges } from "../git/changes.js";
import { sha256 } from "../hash.js";
import type { RepoState } from "../repo/state.js";
import type { DryRunRecord, LeaseRow, SuiteRunRecord } from "../store/types.js";
import { suiteDefinition } from "../suite/definition.js";
import { type BranchChanges, classifyChanges } from "./migrations.js";
import type { GateTarget } from "./target.js";

/** Whether the config the verdict used is main's: only then can a completion be reported or verified. */
export interface ConfigTrust {
  fromMain: boolean;
  source: string;
  /** Why it is not main's config, when it is not. */
  reason: string | null;
}

/** One dry run as a set: the files it applied together, each with its content hash and outcome. */
export interface DryRunSet {
  runId: string;
  createdAt: number;
  templateKey: string | null;
  files: { path: string; sha256: string; outcome: DryRunRecord["outcome"] }[];
}

/** The worker's own records: what the suite and dry-run conditions read. Absent in CI. */
export interface EvidenceFacts {
  /** The pre_push suite's definition hash, or why there is none. */
  suite: { hash: string } | { error: string };
  /** Pre-push runs of the judged tree, newest first. */
  suiteRuns: SuiteRunRecord[];
  /** The worker's dry runs that touched any of the branch's new files, newest first. */
  dryRuns: DryRunSet[];
  /** The template key a dry run must have used to count now (baseline + main's pending). */
  templateKey: string | null;
  /**
   * Migration files with uncommitted changes in the worktree: the working copy's content hash (null
   * when deleted or unreadable) and the content hash of the worker's latest dry run of that path.
   */
  working: { path: string; sha256: string | null; lastDryRun: string | null }[];
}

/**
 * Everything a verdict rests on, read once per call: the repository state (main, branches,
 * production), the judged target, the branch's committed migration changes and their content
 * hashes, the open leases and (for the gate) the worker's records. Conditions are pure functions of it.
 */
export interface GateFacts {
  scope: "gate" | "ci";
  state: RepoState;
  trust: ConfigTrust;
  target: GateTarget;
  changes: BranchChanges;
  /** sha256 of each new file's committed text, by path. */
  contents: Map<string, string>;
  leases: LeaseRow[];
  now: number;
  records: EvidenceFacts | null;
}

const DRY_RUN_ROWS = 2000;
/** The dry run's own limit on a migration file. */
const WORKING_MAX_BYTES = 5 * 1024 * 1024;
const DRY_RUN_SETS = 25;

/** Reads the facts for one verdict. `scope: "ci"` skips the worker's own records. */
export async function gatherFacts(
  ws: BaselineDeps,
  state: RepoState,
  target: GateTarget,
  scope: GateFacts["scope"],
): Promise<GateFacts> {
  const dir = state.config.migrations.dir;
  const committed = await committedChanges(ws.git, state.main.sha, target.head, [dir], {
    fromMergeBase: true,
  });
  const changes: BranchChanges = classifyChanges(committed, state.config.migrations);
  const [texts, leases] = await Promise.all([
    ws.blobTexts(changes.added.map((f) => f.oid)),
    state.store.listLeases({ includeEnded: false, limit: 10_000 }),
  ]);
  const contents = new Map(changes.added.map((f) => [f.path, sha256(texts.get(f.oid) ?? "")]));
  const records = scope === "gate" ? await evidence(ws, state, target, changes) : null;
  return {
    scope,
    state,
    trust: configTrust(state),
    target,
    changes,
    contents,
    leases,
    now: ws.clock.now(),
    records,
  };
}

async function evidence(
  ws: BaselineDeps,
  state: RepoState,
  target: GateTarget,
  changes: BranchChanges,
): Promise<EvidenceFacts> {
  let suite: EvidenceFacts["suite"];
  try {
    suite = { hash: suiteDefinition(state.view.loaded, "pre_push").hash };
  } catch (err) {
    suite = { error: (err as Error).message };
  }
  const paths = new Set(changes.added.map((f) => f.path));
  const [suiteRuns, dryRuns, templateKey, working] = await Promise.all([
    state.store.suiteRuns({ tree: target.tree, profile: "pre_push", limit: 50 }),
    paths.size > 0 && target.worker ? dryRunSets(state, target.worker, paths) : Promise.resolve([]),
    // The baseline (and the engines behind it) loads only when the branch has migrations to judge.
    paths.size > 0
      ? import("../dryrun/templates.js").then((t) => t.currentTemplateKey(ws, state))
      : Promise.resolve(null),
    workingMigrations(state, target),
  ]);
  return { suite, suiteRuns, dryRuns, templateKey, working };
}

/** Uncommitted migration files of the worktree, each against the worker's latest dry run of it. */
async function workingMigrations(state: RepoState, target: GateTarget): Promise<EvidenceFacts["working"]> {
  const dir = `${state.config.migrations.dir.replace(/\/+$/, "")}/`;
  const dirty = target.dirtyPaths.filter((p) => p.startsWith(dir) && p.endsWith(".sql"));
  if (dirty.length === 0 || !target.worker) return [];
  const root = state.view.repo.root;
  const rows = await state.store.dryRuns({ worker: target.worker, limit: DRY_RUN_ROWS });
  return Promise.all(
    dirty.slice(0, 50).map(async (path) => {
      const text = await readBoundedText(join(root, path), {
        maxBytes: WORKING_MAX_BYTES,
        timeoutMs: 5_000,
        within: root,
      }).catch(() => null);
      const last = rows.find((r) => r.file === path);
      return { path, sha256: text === null ? null : sha256(text), lastDryRun: last?.sha256 ?? null };
    }),
  );
}

/** The worker's recent dry runs that applied any of `paths`, each read whole (every file of the run). */
async function dryRunSets(state: RepoState, worker: string, paths: Set<string>): Promise<DryRunSet[]> {
  const rows = await state.store.dryRuns({ worker, limit: DRY_RUN_ROWS });
  const ids: string[] = [];
  for (const r of rows) if (paths.has(r.file) && !ids.includes(r.runId)) ids.push(r.runId);
  const runs = await Promise.all(
    ids.slice(0, DRY_RUN_SETS).map((runId) => state.store.dryRuns({ runId, limit: 1000 })),
  );
  return runs
    .filter((run) => run.length > 0)
    .map((run) => ({
      runId: run[0]!.runId,
      createdAt: run[0]!.createdAt,
      templateKey: run[0]!.templateKey,
      files: run.map((r) => ({ path: r.file, sha256: r.sha256, outcome: r.outcome })),
    }));
}

/** Main's config, read from the ref the config itself names as main; anything else is marked. */
export function configTrust(state: RepoState): ConfigTrust {
  const { source, config, distrust } = state.view.loaded;
  const described = describeSource(source);
  if (distrust) return { fromMain: false, source: described, reason: distrust };
  if (source.kind === "file")
    return { fromMain: false, source: described, reason: `read from --config ${source.path}, not from main` };
  const mainSha = state.view.refs.refs.get(config.main_branch);
  if (source.ref !== config.main_branch && source.sha !== mainSha) {
    return {
      fromMain: false,
      source: described,
      reason: `read from ${source.ref}, which is not main_branch ${config.main_branch}`,
    };
  }
  return { fromMain: true, source: described, reason: null };
}
