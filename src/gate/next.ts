import type { Condition } from "./condition.js";
import type { GateDeps, GateResult } from "./service.js";

/**
 * A worker's next step, computed from the verdict: the fix of the first unmet condition (they come
 * in the order fixes must be done: migrations, commit, suite, push), or report_completed on green.
 * Every answer that tells a worker what to do next takes it from here.
 */
export function workerNext(g: GateResult): string {
  const first = g.unmet[0];
  if (!first) return "Next: report_completed with what you did and how it was verified.";
  const more = g.unmet.length > 1 ? ` (${g.unmet.length - 1} more unmet after it)` : "";
  return `Next: ${step(first)}${more}`;
}

function step(c: Condition): string {
  switch (c.kind) {
    case "clean_tree":
      return "commit your changes (git add -A && git commit), then run_pre_push_suite for the new HEAD.";
    case "suite":
      return c.detail.includes("still running")
        ? "wait for the running suite with suite_status."
        : "run_pre_push_suite (it runs on a clean checkout of HEAD).";
    case "pushed":
      return c.fix ?? "push your branch.";
    case "dry_run":
      return `dry_run_migration (no files argument)${c.file ? ` for ${c.file}` : ""}, then commit.`;
    default:
      return c.fix ?? c.detail;
  }
}

/**
 * The next step of the worker in this worktree, judged now (without a fetch) by the verdict engine;
 * null for another role or when the gate cannot be judged here. Tools that finish a step (a dry
 * run, a suite run) answer with it, so the worker is told to commit before the suite, and so on.
 */
export async function nextForWorker(ws: GateDeps): Promise<string | null> {
  try {
    const [{ gatherRepoState }, { evaluate }, { gateTarget }] = await Promise.all([
      import("../repo/state.js"),
      import("./service.js"),
      import("./target.js"),
    ]);
    const state = await gatherRepoState(ws, { fetch: false });
    if (state.view.identity.role !== "worker") return null;
    return workerNext(await evaluate(ws, state, await gateTarget(ws.git, state, {})));
  } catch {
    return null;
  }
}
