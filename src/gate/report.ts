import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Deps } from "../deps.js";
import { InputError } from "../errors.js";
import { actorOf, requireRole } from "../identity.js";
import { gatherRepoState } from "../repo/state.js";
import type { CompletionRecord } from "../store/types.js";
import { runStep, type StepOutcome } from "../suite/run-step.js";
import { evaluate, type GateDeps, type GateResult } from "./service.js";
import { realProgram } from "./shim.js";
import { gateTarget } from "./target.js";

/** The parts of `Deps` this module uses. */
type Uses = GateDeps & Pick<Deps, "env">;

import { MAX_SUMMARY } from "./condition.js";

export { MAX_SUMMARY };

export type ReportResult =
  | { accepted: false; gate: GateResult }
  | {
      accepted: true;
      gate: GateResult;
      completion: CompletionRecord;
      alreadyReported: boolean;
      reporter: ReporterRun | null;
    };

export interface ReporterRun {
  argv: string[];
  status: StepOutcome["status"];
  exitCode: number | null;
  tail: string;
  error: string | null;
}

/**
 * Reports the caller's completion only on a green gate for its exact HEAD: records it with the
 * evidence, then runs the configured reporter (an argv, no shell). A red gate refuses and reports
 * nothing. A completion already reported for this HEAD is answered without running the reporter again.
 */
export async function reportCompleted(
  ws: Uses,
  input: { summary: string; worker?: string | undefined },
): Promise<ReportResult> {
  const summary = input.summary.trim();
  if (!summary)
    throw new InputError("summary is empty", "Say in a few sentences what you did and how it was verified.");
  if (summary.length > MAX_SUMMARY) {
    throw new InputError(
      `summary is ${summary.length} characters; at most ${MAX_SUMMARY}`,
      "Shorten it: link to details instead of pasting them.",
    );
  }
  const state = await gatherRepoState(ws, { fetch: "always" });
  requireRole(state.view.identity, ["worker"], "report completion");
  const target = await gateTarget(ws.git, state, { worker: input.worker });
  const gate = await evaluate(ws, state, target);
  if (!gate.green) return { accepted: false, gate };
  const worker = target.worker!;
  const branch = target.branch!;
  const [done] = await state.store.completions({ worker, head: target.head, limit: 1 });
  if (done?.reported)
    return { accepted: true, gate, completion: done, alreadyReported: true, reporter: null };
  const actor = { actor: actorOf(state.view.identity), role: state.view.identity.role };
  const completion: CompletionRecord = done ?? {
    id: `C${randomUUID().replaceAll("-", "").slice(0, 12)}`,
    worker,
    branch,
    head: target.head,
    tree: target.tree,
    summary,
    evidence: gate.evidence,
    reported: false,
    reporter: null,
    createdAt: ws.clock.now(),
  };
  await state.store.saveCompletion(completion, {
    ...actor,
    action: "completion.record",
    subject: completion.id,
    detail: { head: target.head },
  });
  const argv = state.config.gate?.reporter;
  if (!argv) return { accepted: true, gate, completion, alreadyReported: false, reporter: null };
  const vars = { summary, worker, branch, sha: target.head };
  const reporter = await runReporter(
    ws,
    argv,
    vars,
    state.config.gate?.reporter_timeout_seconds ?? 60,
    completion.id,
  );
  const finished = { ...completion, reported: reporter.status === "passed", reporter };
  await state.store.saveCompletion(finished, {
    ...actor,
    action: finished.reported ? "completion.reported" : "completion.reporter_failed",
    subject: completion.id,
    detail: { status: reporter.status, exitCode: reporter.exitCode },
  });
  return { accepted: true, gate, completion: finished, alreadyReported: false, reporter };
}

/** `{summary}`, `{worker}`, `{branch}`, `{sha}` in each argument; the argv runs without a shell. */
export function substitute(argv: string[], vars: Record<string, string>): string[] {
  return argv.map((arg) =>
    arg.replace(/\{(summary|worker|branch|sha)\}/g, (_, key: string) => vars[key] ?? ""),
  );
}

async function runReporter(
  ws: Uses,
  argv: string[],
  vars: Record<string, string>,
  timeoutSeconds: number,
  id: string,
): Promise<ReporterRun> {
  const command = substitute(argv, vars);
  const repo = await ws.repo();
  // The gate was just judged green: run the real program, not a PATH shim that would judge it again.
  const real = realProgram(command[0]!, ws.env);
  const outcome = await runStep({
    name: "reporter",
    run: real ? [real, ...command.slice(1)] : command,
    cwd: repo.root,
    timeoutMs: timeoutSeconds * 1000,
    logFile: join(repo.commonDir, "mai-gate", "logs", "completions", `${id}.log`),
  });
  return {
    argv: command,
    status: outcome.status,
    exitCode: outcome.exitCode,
    tail: outcome.tail,
    error: outcome.error,
  };
}
