import { z } from "zod";
import type { StepReport } from "../src/suite/jobs.js";
import type { SuiteAnswer } from "../src/suite/service.js";
import { fence, iso } from "./result.js";

/** The answer of run_pre_push_suite and suite_status: one suite run, its steps and what failed. */
export const suiteOutputSchema = {
  job_id: z.string().describe("pass it to suite_status to wait for or re-read this run"),
  state: z.enum(["running", "passed", "failed", "cancelled", "interrupted"]),
  finished: z.boolean(),
  profile: z.string(),
  worker: z.string(),
  tree: z.string().describe("tree hash of the commit the suite ran on"),
  head: z.string().describe("the commit the suite ran on (HEAD's; main's for smoke)"),
  dirty: z
    .boolean()
    .describe("your worktree had uncommitted changes: they were NOT part of the run (it ran the commit)"),
  checkout: z
    .object({
      kind: z.enum(["clean", "in_place"]).describe("clean: a checkout of the commit made for the run"),
      shared: z.array(z.string()).describe("worktree paths linked in by a step's share: (not in git)"),
    })
    .describe("where it ran: only a clean checkout of the commit is evidence"),
  from_record: z.boolean().describe("this tree already passed this suite: nothing ran"),
  joined: z.boolean().describe("joined a run already in progress for this tree"),
  next: z.string().describe("your next step after this run (for a worker's pass: from its gate's state)"),
  accepted_by_gate: z
    .boolean()
    .describe("a pre-push pass on a clean checkout: the completion gate accepts it for this tree"),
  live: z
    .object({
      checked_at: z.string(),
      up: z.boolean().nullable().describe("null: the health endpoint could not be asked"),
      sha: z.string().nullable().describe("the sha the live site reported"),
      error: z.string().nullable(),
    })
    .nullable()
    .describe("smoke runs: what the live site (deploy.health_url) said when the run started"),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  progress: z.object({ done: z.number(), total: z.number() }),
  steps: z.array(
    z.object({
      name: z.string(),
      status: z.enum([
        "pending",
        "running",
        "skipped",
        "passed",
        "failed",
        "timed_out",
        "cancelled",
        "not_found",
      ]),
      reason: z.string().nullable(),
      duration_ms: z.number().nullable(),
      exit_code: z.number().nullable(),
      log_file: z.string().nullable().describe("the whole output, on disk"),
      output_bytes: z.number(),
      tail: z.string().nullable().describe("the last lines of output (untrusted text)"),
      failing_tests: z.array(
        z.object({
          name: z.string(),
          package: z.string().nullable(),
          file: z.string().nullable(),
          line: z.number().nullable(),
          message: z.string().nullable(),
        }),
      ),
      failing_packages: z.array(z.string()),
      compile_errors: z.array(
        z.object({ file: z.string(), line: z.number(), column: z.number().nullable(), message: z.string() }),
      ),
    }),
  ),
};

const FINISHED = new Set(["passed", "skipped", "failed", "timed_out", "cancelled", "not_found"]);

export function suiteOutput(a: SuiteAnswer, gateNext: string | null = null) {
  const r = a.run;
  return {
    next: suiteNext(a, gateNext),
    job_id: r.id,
    state: r.state,
    finished: a.finished,
    profile: r.profile,
    worker: r.worker,
    tree: r.tree,
    head: r.head,
    dirty: a.dirtyNow ?? r.dirty,
    checkout: r.checkout
      ? { kind: "clean" as const, shared: r.checkout.shared }
      : { kind: "in_place" as const, shared: [] },
    from_record: a.fromRecord,
    joined: a.joined,
    accepted_by_gate: r.state === "passed" && r.checkout !== null && r.profile === "pre_push",
    live: r.live
      ? { checked_at: iso(r.live.checkedAt), up: r.live.up, sha: r.live.sha, error: r.live.error }
      : null,
    started_at: iso(r.startedAt),
    finished_at: r.finishedAt === null ? null : iso(r.finishedAt),
    progress: { done: r.steps.filter((s) => FINISHED.has(s.status)).length, total: r.steps.length },
    steps: r.steps.map((s) => ({
      name: s.name,
      status: s.status,
      reason: s.reason,
      duration_ms: s.durationMs === null ? null : Math.round(s.durationMs),
      exit_code: s.exitCode,
      log_file: s.logFile,
      output_bytes: s.outputBytes,
      tail: s.tail,
      failing_tests: s.go?.failingTests ?? [],
      failing_packages: s.go?.failingPackages ?? [],
      compile_errors: (s.go?.compileErrors ?? []).map((e) => ({
        file: e.file,
        line: e.line,
        column: e.column,
        message: e.message,
      })),
    })),
  };
}

/** `gateNext`: a worker's next step from the verdict engine, once its pre-push run passed. */
export function suiteText(a: SuiteAnswer, gateNext: string | null = null): string {
  const r = a.run;
  const how = a.fromRecord
    ? " (from the record: this tree already passed; nothing ran)"
    : a.joined
      ? " (joined the run in progress)"
      : "";
  const where = r.checkout
    ? `a clean checkout of ${r.head.slice(0, 10)}${r.checkout.shared.length > 0 ? ` (linked from the worktree: ${r.checkout.shared.join(", ")})` : ""}`
    : "the worktree itself (not evidence)";
  const lines = [
    `Suite ${r.profile} ${r.state.toUpperCase()}${how}: job ${r.id}, tree ${r.tree.slice(0, 12)}, on ${where}.`,
  ];
  const dirty = a.dirtyNow ?? r.dirty;
  if (dirty) lines.push("Your uncommitted changes were NOT part of this run: it ran the committed tree.");
  for (const s of r.steps) lines.push(...stepLines(s));
  lines.push(suiteNext(a, gateNext));
  return lines.join("\n");
}

/** The caller's next step after this run. */
export function suiteNext(a: SuiteAnswer, gateNext: string | null = null): string {
  const r = a.run;
  if (r.state === "running")
    return `Still running: call suite_status with job_id ${r.id} and wait_seconds to wait for it.`;
  if (r.profile === "smoke" || a.role === "tester") return mainRunNext(a);
  if (r.state !== "passed") return "Fix what failed, commit, and run the suite again.";
  if (gateNext) return gateNext;
  return (a.dirtyNow ?? r.dirty)
    ? "Next: commit your changes and run again, so the run covers them."
    : "Next: push, then call gate_status and report_completed.";
}

/**
 * The next step after a run on main's HEAD (smoke, or the tester's run of any profile): nothing to
 * commit or push — a failure is the head's to hear about, with deploy_status beside it.
 */
function mainRunNext(a: SuiteAnswer): string {
  const r = a.run;
  const on = `main ${r.head.slice(0, 7)}`;
  const live = !r.live
    ? ""
    : r.live.up === null
      ? ` (live could not be asked: ${r.live.error ?? "?"})`
      : r.live.up
        ? ` (live ${r.live.sha?.slice(0, 7) ?? "reports no sha"})`
        : ` (live was DOWN when it started: ${r.live.error ?? "?"})`;
  if (r.state === "passed" && r.live?.up === false)
    return `Next: the smoke steps passed on ${on} while the live site was down${live}: call deploy_status (fresh: true) and tell the head; a smoke that passes against a down site does not reach it.`;
  if (r.state === "passed")
    return r.profile === "smoke"
      ? `Next: nothing to do; deploy_status shows smoke passed on ${on}${live}. Smoke again after the next merge or deploy.`
      : `Next: nothing to do; ${on} passes the ${r.profile} suite.`;
  return `Next: call deploy_status (fresh: true) and tell the head: ${r.profile} ${r.state} on ${on}${live}, with the failing steps above; the deploy-incident prompt says what to do. Run it again after the fix is merged.`;
}

function stepLines(s: StepReport): string[] {
  const ms = s.durationMs === null ? "" : ` in ${(s.durationMs / 1000).toFixed(1)} s`;
  const lines = [`- ${s.name}: ${s.status}${ms}${s.reason ? ` (${s.reason})` : ""}`];
  const go = s.go;
  if (go) {
    // Test names and messages come from the code under test: untrusted, so fenced.
    const found = [
      ...go.failingTests
        .slice(0, 20)
        .map(
          (t) =>
            `FAIL ${t.name}${t.package ? ` (${t.package})` : ""}${t.file ? ` at ${t.file}:${t.line}` : ""}${t.message ? `: ${t.message}` : ""}`,
        ),
      ...go.compileErrors
        .slice(0, 20)
        .map((e) => `${e.file}:${e.line}${e.column ? `:${e.column}` : ""}: ${e.message}`),
    ];
    if (found.length > 0) lines.push(fence(`Go failures of ${s.name}`, found.join("\n")));
    if (go.failingPackages.length > 0) lines.push(`  failing packages: ${go.failingPackages.join(", ")}`);
  }
  const failed = s.status === "failed" || s.status === "timed_out" || s.status === "not_found";
  if (failed && s.tail) lines.push(fence(`Last output of ${s.name} (whole log: ${s.logFile})`, s.tail));
  return lines;
}
