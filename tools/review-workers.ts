import { z } from "zod";
import type { ToolRegistrar } from "./dispatch.js";
import { ok, runTool, type ToolDeps } from "./result.js";
import { reviewOutput, reviewSchema, reviewText } from "./review-output.js";

export const name = "review_workers";

export const inputSchema = {
  worker: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional()
    .describe("only this worker (default: every worker with a branch or an open lease)"),
};

export const outputSchema = reviewSchema;

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Review every worker",
      description: `Head only. One review of every worker, from one read of the repository: each branch once (local and origin copies merged) — pushed or not, at which sha, commits ahead of main, last commit age — its completion gate (the same verdict engine as gate_status and verify_completion), its latest completion against the current tip ("still at tip" or "branch moved since: stale"); each worker's open leases with ages and states; a stale flag with the rule that set it (unpushed_leases: leases older than review.stale_hours on a branch never pushed; silent: no commit, lease or completion for review.silent_hours); files that must move off another worker's version; and versions main and production name differently.

Call it first when reviewing, then act on "next" (most urgent first): tell a worker to rename, revoke a silent worker's leases with revoke_worker_leases, verify_completion and merge a done branch. Check deploy_status before merging.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Review every worker",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { reviewWorkers } = await import("../src/review/service.js");
        const review = await reviewWorkers(deps.workspace, { worker: args.worker });
        return ok(reviewOutput(review), reviewText(review));
      }),
  );
}
