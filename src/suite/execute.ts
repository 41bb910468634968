import { open } from "node:fs/promises";
import { join } from "node:path";
import type { StateStore } from "../store/types.js";
import { type SuiteDefinition, type SuiteStep, skipReason, stepGroups } from "./definition.js";
import { looksLikeGoJson, parseGoTestJson } from "./go-json.js";
import { looksLikeGo, parseGoOutput } from "./go-output.js";
import { notify, type StepReport, type SuiteJob } from "./jobs.js";
import { runStep } from "./run-step.js";

export interface ExecutionPlan {
  job: SuiteJob;
  definition: SuiteDefinition;
  /** Absolute working directory of each step, validated. */
  cwds: Map<string, string>;
  /** Paths changed since the merge base; null runs every step. */
  changed: string[] | null;
  logDir: string;
  store: StateStore;
  actor: { actor: string; role: string };
  now: () => number;
}

const GO_PARSE_BYTES = 2 * 1024 * 1024;

/**
 * Runs a suite: groups in order, the steps of a parallel group together, stopping at the first
 * failure (later steps are skipped). Records the run when it starts and when it ends.
 */
export async function executeSuite(plan: ExecutionPlan): Promise<void> {
  const { job, definition } = plan;
  const total = definition.steps.length;
  let done = 0;
  for (const group of stepGroups(definition.steps)) {
    const pending = group.map((step) => reportOf(job, step.name));
    if (job.controller.signal.aborted) {
      for (const r of pending) Object.assign(r, { status: "cancelled", reason: "the suite was cancelled" });
    } else if (job.run.steps.some((s) => isFailure(s.status))) {
      for (const r of pending) Object.assign(r, { status: "skipped", reason: "an earlier step failed" });
    } else {
      await Promise.all(
        group.map(async (step) => {
          await runOne(plan, step, ++done, total);
        }),
      );
      continue;
    }
    done += group.length;
  }
  const aborted = job.controller.signal.aborted;
  const failed = job.run.steps.some((s) => isFailure(s.status));
  job.run.state = aborted ? "cancelled" : failed ? "failed" : "passed";
  job.run.finishedAt = plan.now();
  notify(job, { done: total, total, message: `suite ${job.run.state}` });
  await plan.store.saveSuiteRun(job.run, {
    ...plan.actor,
    action: "suite.finish",
    subject: job.run.id,
    detail: { profile: job.run.profile, state: job.run.state, tree: job.run.tree, dirty: job.run.dirty },
  });
}

async function runOne(plan: ExecutionPlan, step: SuiteStep, index: number, total: number): Promise<void> {
  const { job } = plan;
  const report = reportOf(job, step.name);
  const skip = skipReason(step, plan.changed);
  if (skip) {
    Object.assign(report, { status: "skipped", reason: skip });
    notify(job, { done: index, total, message: `step ${index} of ${total}: ${step.name} skipped` });
    return;
  }
  report.status = "running";
  notify(job, { done: index - 1, total, message: `step ${index} of ${total}: ${step.name}` });
  const logFile = join(
    plan.logDir,
    `${String(index).padStart(2, "0")}-${step.name.replace(/[^\w.-]+/g, "_")}.log`,
  );
  const outcome = await runStep(
    {
      name: step.name,
      run: step.run,
      cwd: plan.cwds.get(step.name)!,
      timeoutMs: step.timeoutMs,
      env: step.env,
      logFile,
    },
    { signal: job.controller.signal },
  );
  const go = await goReport(logFile, outcome.tail);
  Object.assign(report, {
    status: outcome.status,
    reason: outcome.error,
    durationMs: outcome.durationMs,
    exitCode: outcome.exitCode,
    logFile,
    outputBytes: outcome.outputBytes,
    tail: outcome.tail,
    go,
  } satisfies Partial<StepReport>);
  notify(job, { done: index, total, message: `step ${index} of ${total}: ${step.name} ${outcome.status}` });
}

/**
 * Go's failures from the end of the log (bounded), when the output looks like Go's: test2json
 * events (`go test -json`) or the plain output of go build, vet and test.
 */
async function goReport(logFile: string, tail: string): Promise<StepReport["go"]> {
  const json = looksLikeGoJson(tail);
  if (!json && !looksLikeGo(tail)) return null;
  const handle = await open(logFile, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, GO_PARSE_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString("utf8");
    const report = json ? parseGoTestJson(text) : parseGoOutput(text);
    const empty =
      report.failingTests.length + report.failingPackages.length + report.compileErrors.length === 0;
    return empty ? null : report;
  } finally {
    await handle.close();
  }
}

function reportOf(job: SuiteJob, name: string): StepReport {
  return job.run.steps.find((s) => s.name === name)!;
}

function isFailure(status: StepReport["status"]): boolean {
  return status === "failed" || status === "timed_out" || status === "not_found" || status === "cancelled";
}
