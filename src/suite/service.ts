import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { InputError, NotFoundError } from "../errors.js";
import { changedPaths, mergeBase, treeState } from "../git/changes.js";
import { createGit, type Git } from "../git/git.js";
import { actorOf, type Identity, requireRole, requireWorkerId } from "../identity.js";
import type { View, Workspace } from "../workspace.js";
import { type SuiteDefinition, stepCwd, suiteDefinition } from "./definition.js";
import { executeSuite } from "./execute.js";
import type { Progress, SuiteJob, SuiteRun } from "./jobs.js";
import { smokeWorktree } from "./smoke.js";

export interface SuiteAnswer {
  run: SuiteRun;
  /** Answered from an earlier passing run of the same tree and suite: nothing ran. */
  fromRecord: boolean;
  /** Joined a run already in progress for the same tree. */
  joined: boolean;
  finished: boolean;
}

export interface RunInput {
  profile?: string | undefined;
  waitSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
}

export const DEFAULT_WAIT_S = 90;
export const MAX_WAIT_S = 600;

/**
 * Runs the profile's suite on this worktree (a tester: on main's HEAD in a worktree of its own) as a
 * job keyed by the tree, or answers from the record when this tree already passed. Returns when the
 * job ends or after `waitSeconds`; cancelling the call cancels the job.
 */
export async function runSuite(ws: Workspace, input: RunInput): Promise<SuiteAnswer> {
  const wait = waitSecondsOf(input.waitSeconds, DEFAULT_WAIT_S);
  const view = await ws.view();
  requireRole(view.identity, ["worker", "tester"], "run the suite");
  const profile = input.profile ?? (view.identity.role === "tester" ? "smoke" : "pre_push");
  const definition = suiteDefinition(view.loaded, profile);
  const target = await targetOf(ws, view);
  const cwds = new Map<string, string>();
  for (const step of definition.steps) cwds.set(step.name, await stepCwd(target.root, step));
  const tree = await treeState(target.git);
  const store = await ws.store(view.loaded);
  if (!tree.dirty) {
    const [passed] = await store.suiteRuns({
      tree: tree.tree,
      suiteHash: definition.hash,
      profile,
      state: "passed",
      dirty: false,
      limit: 1,
    });
    if (passed) return { run: passed as SuiteRun, fromRecord: true, joined: false, finished: true };
  }
  const key = [target.worker, profile, tree.tree, definition.hash, tree.dirty].join("|");
  let job = ws.suiteJobs.running(key);
  const joined = job !== undefined;
  if (!job) {
    const changed = target.smoke
      ? null
      : await changedPaths(target.git, await mergeBase(target.git, target.mainSha));
    job = await startJob(ws, { view, definition, target, tree, cwds, changed, listener: input.onProgress });
    ws.suiteJobs.add(key, job);
  }
  return waitFor(job, wait, { ...input, joined, cancelOnAbort: true });
}

export async function suiteStatus(
  ws: Workspace,
  input: { jobId?: string | undefined; waitSeconds?: number | undefined; signal?: AbortSignal | undefined },
): Promise<SuiteAnswer> {
  const wait = waitSecondsOf(input.waitSeconds, 0);
  const view = await ws.view();
  const worker = view.identity.worker ?? view.identity.role;
  const job = input.jobId ? ws.suiteJobs.get(input.jobId) : ws.suiteJobs.latest(worker);
  if (job) return waitFor(job, wait, { signal: input.signal, joined: true, cancelOnAbort: false });
  const store = await ws.store(view.loaded);
  const [record] = input.jobId ? await store.suiteRuns({ id: input.jobId, limit: 1 }) : [];
  if (!record) {
    throw new NotFoundError(
      input.jobId ? `no suite job ${input.jobId}` : "this server has run no suite yet",
      "run_pre_push_suite starts one and answers its job id.",
    );
  }
  return { run: record as SuiteRun, fromRecord: true, joined: false, finished: record.state !== "running" };
}

function waitSecondsOf(given: number | undefined, fallback: number): number {
  const wait = given ?? fallback;
  if (!Number.isFinite(wait) || wait < 0 || wait > MAX_WAIT_S) {
    throw new InputError(
      `wait_seconds ${wait} is out of range: 0 to ${MAX_WAIT_S}`,
      "Wait in steps and poll suite_status.",
    );
  }
  return wait;
}

interface Target {
  root: string;
  git: Git;
  worker: string;
  smoke: boolean;
  mainSha: string;
}

async function targetOf(ws: Workspace, view: View): Promise<Target> {
  const mainSha = view.refs.refs.get(view.loaded.config.main_branch);
  if (view.identity.role === "tester") {
    if (!mainSha)
      throw new InputError(
        `main_branch ${view.loaded.config.main_branch} does not exist here`,
        "Run git fetch.",
      );
    const root = await smokeWorktree(ws, mainSha);
    return { root, git: createGit(root), worker: testerId(view.identity), smoke: true, mainSha };
  }
  if (!mainSha)
    throw new InputError(
      `main_branch ${view.loaded.config.main_branch} does not exist here`,
      "Run git fetch.",
    );
  return { root: view.repo.root, git: ws.git, worker: requireWorkerId(view.identity), smoke: false, mainSha };
}

function testerId(identity: Identity): string {
  return identity.worker ?? "tester";
}

interface JobStart {
  view: View;
  definition: SuiteDefinition;
  target: Target;
  tree: { head: string; tree: string; dirty: boolean };
  cwds: Map<string, string>;
  changed: string[] | null;
  /** Registered before the first step starts, so no progress is missed. */
  listener: ((p: Progress) => void) | undefined;
}

async function startJob(ws: Workspace, s: JobStart): Promise<SuiteJob> {
  const store = await ws.store(s.view.loaded);
  const id = `S${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const logDir = join((await ws.repo()).commonDir, "mai-gate", "logs", id);
  await mkdir(logDir, { recursive: true });
  const run: SuiteRun = {
    id,
    worker: s.target.worker,
    branch: s.target.smoke ? s.view.loaded.config.main_branch : s.view.identity.branch,
    profile: s.definition.profile,
    tree: s.tree.tree,
    head: s.tree.head,
    suiteHash: s.definition.hash,
    dirty: s.tree.dirty,
    state: "running",
    steps: s.definition.steps.map((step) => ({
      name: step.name,
      status: "pending",
      reason: null,
      durationMs: null,
      exitCode: null,
      logFile: null,
      outputBytes: 0,
      tail: null,
      go: null,
    })),
    pid: process.pid,
    host: hostname(),
    startedAt: ws.clock.now(),
    finishedAt: null,
  };
  const actor = { actor: actorOf(s.view.identity), role: s.view.identity.role };
  await store.saveSuiteRun(run, {
    ...actor,
    action: "suite.start",
    subject: id,
    detail: { profile: run.profile, tree: run.tree },
  });
  const controller = new AbortController();
  const job: SuiteJob = {
    run,
    controller,
    listeners: new Set(s.listener ? [s.listener] : []),
    done: Promise.resolve(),
  };
  job.done = executeSuite({
    job,
    definition: s.definition,
    cwds: s.cwds,
    changed: s.changed,
    logDir,
    store,
    actor,
    now: () => ws.clock.now(),
  }).catch((err: unknown) => {
    ws.logger.error({ err, job: id }, "suite job failed unexpectedly");
    run.state = "failed";
    run.finishedAt = ws.clock.now();
  });
  return job;
}

async function waitFor(
  job: SuiteJob,
  seconds: number,
  options: {
    signal?: AbortSignal | undefined;
    onProgress?: ((p: Progress) => void) | undefined;
    joined: boolean;
    /** Cancelling the waiting call cancels the job (run_pre_push_suite) or only stops waiting (suite_status). */
    cancelOnAbort: boolean;
  },
): Promise<SuiteAnswer> {
  const listener = options.onProgress;
  if (listener) job.listeners.add(listener);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      job.done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, seconds * 1000);
      }),
      new Promise<void>((resolve) => {
        if (!options.signal) return;
        onAbort = () => {
          if (!options.cancelOnAbort) return resolve();
          job.controller.abort();
          void job.done.then(resolve);
        };
        if (options.signal.aborted) onAbort();
        else options.signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    if (listener) job.listeners.delete(listener);
  }
  return { run: job.run, fromRecord: false, joined: options.joined, finished: job.run.state !== "running" };
}
