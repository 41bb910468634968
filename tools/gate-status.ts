import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { describeGate, gateStatus } from "../src/gate/service.js";
import { gateOutput, gateSchema } from "./gate-output.js";
import { ok, runTool, type ToolDeps } from "./result.js";

export const name = "gate_status";

export const inputSchema = {
  branch: z
    .string()
    .optional()
    .describe("head/tester only: judge this worker branch (e.g. mai/ann/fix) from its ref; workers omit it"),
  worker: z
    .string()
    .optional()
    .describe("optional; if given it must be the caller (a worker acts only for itself)"),
};

export const outputSchema = gateSchema.shape;

export function register(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Completion gate status",
      description: `Every condition of the completion gate for your current HEAD, each with pass/fail and how to fix it: the worktree is clean; the pre-push suite passed for this exact tree; every migration file your branch adds holds your lease, passed a dry run for its exact content against the current baseline, and collides with nothing on main or in production; no migration main already has was edited, renamed or deleted. Recomputed at every call.

Call it before report_completed, and work through "unmet" top to bottom until green. The head may pass a branch to judge a worker's branch from its ref.`,
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
        const gate = await gateStatus(deps.workspace, { branch: args.branch, worker: args.worker });
        return ok(gateOutput(gate), describeGate(gate));
      }),
  );
}
