import { z } from "zod";
import { describeGate } from "../src/gate/describe.js";
import { workerNext } from "../src/gate/next.js";
import type { GateResult } from "../src/gate/service.js";
import type { ToolRegistrar } from "./dispatch.js";
import { gateOutput, gateSchema } from "./gate-output.js";
import { ok, runTool, type ToolDeps } from "./result.js";

export const name = "gate_status";

export const inputSchema = {
  branch: z
    .string()
    .max(255)
    .optional()
    .describe("head/tester only: judge this worker branch (e.g. mai/ann/fix) from its ref; workers omit it"),
  worker: z
    .string()
    .max(64)
    .optional()
    .describe("optional; if given it must be the caller (a worker acts only for itself)"),
};

export const outputSchema = gateSchema.shape;

/** The head's (or tester's) next step on another worker's gate: whom to tell, or what to verify. */
function headNext(g: GateResult): string {
  const who = g.target.worker ?? "the branch's worker";
  if (g.green)
    return `Next: wait for ${who}'s report, then verify_completion(worker: "${who}", branch: "${g.target.branch}", sha: "${g.target.head}") before merging.`;
  return `Next: send ${who} the unmet lines above (the fixes are theirs to make); review_workers shows every worker at once.`;
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Completion gate status",
      description: `Every condition of the completion gate for your current HEAD's committed content, each with pass/fail and how to fix it: the config is main's; every migration file your branch adds has a readable name, holds your lease, and breaks no slot rule (main, production, strict ordering, other branches' files, other workers' leases, duplicates); no migration main already has was edited, retyped, renamed or deleted; the latest dry run of exactly your branch's new files, together, at their committed contents, on the current baseline passed; an uncommitted migration file matches its last dry run; the worktree is clean (no file hidden by skip-worktree/assume-unchanged); the pre-push suite passed on a clean checkout of this exact tree; the branch is pushed at HEAD (its remote branch is at this commit). Recomputed at every call, by the same engine as mai-gate check and the head's verify_completion.

Call it before report_completed, and work through "unmet" top to bottom (the order fixes must be done in: migrations, commit, suite, push) until green; "next" says the one step to take now. The head may pass a branch to judge a worker's branch from its ref.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Completion gate status",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { gateStatus } = await import("../src/gate/service.js");
        const gate = await gateStatus(deps.workspace, { branch: args.branch, worker: args.worker });
        const { role } = (await deps.workspace.view()).identity;
        const next = role === "worker" ? workerNext(gate) : headNext(gate);
        return ok(gateOutput(gate), `${describeGate(gate)}\n${next}`);
      }),
  );
}
