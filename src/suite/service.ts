import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Deps, View } from "../deps.js";
import { InputError, NotFoundError } from "../errors.js";
import { committedPaths, headCommit, mergeBase } from "../git/changes.js";
import { cleanCheckout, linkShared } from "../git/checkout.js";
import { actorOf, type Role, requireRole } from "../identity.js";
import type { LiveSeen, SuiteRunRecord } from "../store/types.js";
import { type SuiteDefinition, stepCwd, suiteDefinition } from "./definition.js";
import { executeSuite } from "./execute.js";
import type { Progress, SuiteJob, SuiteRun } from "./jobs.js";
import { DEFAULT_WAIT_S, MAX_WAIT_S } from "./limits.js";
import { seeLive } from "./smoke.js";
import { type Target, targetOf } from "./target.js";

/** What running and reading suites uses of `Deps`. */
export type SuiteDeps = Pick<Deps, "clock" | "git" | "logger" | "repo" | "store" | "suiteJobs" | "view">;

export interface SuiteAnswer {
  run: SuiteRun;
  /** Answered from an earlier passing run of the same tree and suite: nothing ran. */
  fromRecord: boolean;
  /** Joined a run already in progress for the same tree. */
  joined: boolean;
  finished: boolean;
  /** The caller's worktree has uncommitted changes now (not part of any run of the commit). */
  dirtyNow?: boolean;
  /** Who asked: the answer's next step is worded for the caller's role. */
  role?: Role;
}

export interface RunInput {
  profile?: string | undefined;
  waitSeconds?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
}

export { DEFAULT_WAIT_S, MAX_WAIT_S } from "./limits.js";

/**
 * Runs the profile's suite on a clean checkout of HEAD's committed tree (a tester: of main's HEAD)
 * as a job keyed by the tree, or answers from the record when this tree already passed the
 * pre-push suite. Smoke always runs, on main's HEAD, whoever asks: it checks the live system, which
 * no record of a tree can tell, and each run records what was live when it started.
 * Returns when the job ends or after `waitSeconds`; cancelling the call cancels the job.
 */
export async function runSuite(ws: SuiteDeps, input: RunInput): Promise<SuiteAnswer> {
  const wait = waitSecondsOf(input.waitSeconds, DEFAULT_WAIT_S);
  const view = await ws.view();
  requireRole(view.identity, ["worker", "tester"], "run the suite");
  const profile = input.profile ?? (view.identity.role === "tester" ? "smoke" : "pre_push");
  const definition = suiteDefinition(view.loaded, profile);
  const target = await targetOf(ws, view, profile === "smoke");
  const store = await ws.store(view.loaded);
  if (profile !== "smoke") {
    const [passed] = await store.suiteRuns({
      tree: target.tree,
      suiteHash: definition.hash,
      profile,
      state: "passed",
      limit: 5,
    });
    if (passed?.checkout)
      return {
        run: passed as SuiteRun,
        fromRecord: true,
        joined: false,
        finished: true,
        dirtyNow: target.dirty,
        role: view.identity.role,
      };
  }
  const key = [target.worker, profile, target.tree, definition.hash].join("|");
  let job = ws.suiteJobs.running(key);
  const joined = job !== undefined;
  if (!job) {
    const changed = target.smoke
      ? null
      : await committedPaths(ws.git, await mergeBase(ws.git, target.mainSha, target.head), target.head);
    job = await startJob(ws, { view, definition, target, changed, listener: input.onProgress });
    ws.suiteJobs.add(key, job);
  }
  const answer = await waitFor(job, wait, { ...input, joined, cancelOnAbort: true });
  return { ...answer, dirtyNow: target.dirty, role: view.identity.role };
}

export async function suiteStatus(
  ws: SuiteDeps,
  input: { jobId?: string | undefined; waitSeconds?: number | undefined; signal?: AbortSignal | undefined },
): Promise<SuiteAnswer> {
  const wait = waitSecondsOf(input.waitSeconds, 0);
  const view = await ws.view();
  const worker = view.identity.worker ?? view.identity.role;
  const job = input.jobId ? ws.suiteJobs.get(input.jobId) : ws.suiteJobs.latest(worker);
  const role = view.identity.role;
  if (job)
    return {
      ...(await waitFor(job, wait, { signal: input.signal, joined: true, cancelOnAbort: false })),
      role,
    };
  const store = await ws.store(view.loaded);
  const record = input.jobId
    ? (await store.suiteRuns({ id: input.jobId, limit: 1 }))[0]
    : await latestForHead(ws, store, worker, role);
  if (!record) {
    throw new NotFoundError(
      input.jobId
        ? `no suite job ${input.jobId}`
        : "no suite run is recorded for this HEAD's tree, here or by another server",
      "run_pre_push_suite starts one and answers its job id.",
    );
  }
  return {
    run: record as SuiteRun,
    fromRecord: true,
    joined: false,
    finished: record.state !== "running",
    role,
  };
}

/**
 * Without a job id and with no job in this process: the latest recorded run of this HEAD's tree
 * (the worker's own first), of the profile the caller runs by default. Runs on main's HEAD for the tester.
 */
async function latestForHead(
  ws: SuiteDeps,
  store: Awaited<ReturnType<SuiteDeps["store"]>>,
  worker: string,
  role: string,
): Promise<SuiteRunRecord | undefined> {
  const profile = role === "tester" ? "smoke" : "pre_push";
  if (profile === "smoke") return (await store.suiteRuns({ profile, limit: 1 }))[0];
  const { tree } = await headCommit(ws.git).catch(() => ({ tree: null }));
  if (!tree) return undefined;
  const runs = await store.suiteRuns({ tree, profile, limit: 20 });
  return runs.find((r) => r.worker === worker) ?? runs[0];
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

interface JobStart {
  view: View;
  definition: SuiteDefinition;
  target: Target;
  changed: string[] | null;
  /** Registered before the first step starts, so no progress is missed. */
  listener: ((p: Progress) => void) | undefined;
}

/** Makes the clean checkout (its cwds checked, shared paths linked), records the run and starts it. */
async function startJob(ws: SuiteDeps, s: JobStart): Promise<SuiteJob> {
  const store = await ws.store(s.view.loaded);
  const repo = await ws.repo();
  const [checkout, live] = await Promise.all([
    cleanCheckout(
      ws.git,
      join(repo.commonDir, "mai-gate", "checkouts"),
      s.target.smoke ? "smoke" : s.target.worker,
      s.target.head,
      s.target.tree,
    ),
    s.target.smoke ? seeLive(s.view.loaded, () => ws.clock.now()) : Promise.resolve(null),
  ]);
  let cwds: Map<string, string>;
  let shared: string[];
  try {
    cwds = new Map<string, string>();
    for (const step of s.definition.steps) cwds.set(step.name, await stepCwd(checkout.path, step));
    const wanted = [...new Set(s.definition.steps.flatMap((step) => step.share))];
    shared = await linkShared(checkout.path, s.target.root, wanted);
  } catch (err) {
    await checkout.release();
    throw err;
  }
  const id = `S${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const logDir = join(repo.commonDir, "mai-gate", "logs", id);
  await mkdir(logDir, { recursive: true });
  const run = newRun(s, id, shared, live, ws.clock.now());
  const actor = { actor: actorOf(s.view.identity), role: s.view.identity.role };
  await store.saveSuiteRun(run, {
    ...actor,
    action: "suite.start",
    subject: id,
    detail: {
      profile: run.profile,
      tree: run.tree,
      checkout: checkout.path,
      shared,
      live: live?.sha ?? null,
    },
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
    cwds,
    changed: s.changed,
    logDir,
    store,
    actor,
    now: () => ws.clock.now(),
  })
    .catch((err: unknown) => {
      ws.logger.error({ err, job: id }, "suite job failed unexpectedly");
      run.state = "failed";
      run.finishedAt = ws.clock.now();
    })
    .finally(() => checkout.release());
  return job;
}

function newRun(s: JobStart, id: string, shared: string[], live: LiveSeen | null, now: number): SuiteRun {
  return {
    id,
    worker: s.target.worker,
    branch: s.target.smoke ? s.view.loaded.config.main_branch : s.view.identity.branch,
    profile: s.definition.profile,
    tree: s.target.tree,
    head: s.target.head,
    suiteHash: s.definition.hash,
    dirty: s.target.dirty,
    checkout: { kind: "clean", shared },
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
    startedAt: now,
    finishedAt: null,
    live,
  };
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
