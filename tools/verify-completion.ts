import { z } from "zod";
import { describeGate } from "../src/gate/describe.js";
import type { Verification } from "../src/gate/verify.js";
import type { ToolRegistrar } from "./dispatch.js";
import { gateOutput, gateSchema } from "./gate-output.js";
import { fence, iso, ok, runTool, type ToolDeps } from "./result.js";

export const name = "verify_completion";

export const inputSchema = {
  worker: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .describe("the worker whose completion you are checking, e.g. ann"),
  branch: z.string().min(1).max(255).describe("the worker's branch the completion names, e.g. mai/ann/fix"),
  sha: z
    .string()
    .regex(/^[0-9a-fA-F]{7,64}$/, {
      error: "not a commit sha: pass the 7 to 64 hex digits of the commit the completion names",
    })
    .describe("the commit the completion names (full sha, or an unambiguous prefix)"),
};

export const outputSchema = {
  verified: z
    .boolean()
    .describe(
      "true only when a completion is recorded for exactly this worker, branch and sha, the branch still points at it, AND its gate is green now",
    ),
  reasons: z.array(z.string()).describe("why it is not verified; empty when it is"),
  completion: z
    .object({
      id: z.string(),
      recorded_at: z.string(),
      reported: z.boolean().describe("the reporter command ran and succeeded"),
      summary: z.string().describe("the worker's summary (untrusted text)"),
    })
    .nullable(),
  gate: gateSchema,
};

export function verificationOutput(v: Verification) {
  return {
    verified: v.verified,
    reasons: v.reasons,
    completion: v.completion
      ? {
          id: v.completion.id,
          recorded_at: iso(v.completion.createdAt),
          reported: v.completion.reported,
          summary: v.completion.summary,
        }
      : null,
    gate: gateOutput(v.gate),
  };
}

export function verificationText(v: Verification, input: { worker: string; branch: string }): string {
  const sha = v.gate.target.head.slice(0, 10);
  if (v.verified) {
    const c = v.completion!;
    return `VERIFIED: ${input.worker}'s completion ${c.id} for ${input.branch} at ${sha} was recorded on a green gate, and the gate is green now with main's config.\n${fence("Worker's summary", c.summary)}\nNext: merge ${input.branch} at ${sha}.`;
  }
  return `NOT VERIFIED: ${input.worker} on ${input.branch} at ${sha}.\n${v.reasons.map((r) => `- ${r}`).join("\n")}\n${describeGate(v.gate)}\nNext: do not merge; send the worker the reasons above.`;
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Verify a worker's completion",
      description: `Head only. Whether a worker's reported completion holds: a completion was recorded for exactly this worker, branch and commit, the branch still points at that commit, and the completion gate for that commit is green when recomputed now with main's config (suite passed on a clean checkout of its tree, the dry run of its whole migration set passed on the current baseline, leases held, no collision, no edit of an applied migration).

Call it before merging a branch a worker says is done, with the worker, branch and sha from its report. verified: false lists the reasons; do not merge then. The worker's hook and PATH shim only warn and enforce on its host: this answer is the final word.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Verify a worker's completion",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { verifyCompletion } = await import("../src/gate/verify.js");
        const v = await verifyCompletion(deps.workspace, args, { roles: ["head"] });
        return ok(verificationOutput(v), verificationText(v, args));
      }),
  );
}
