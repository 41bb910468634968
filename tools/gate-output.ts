import { z } from "zod";
import { CONDITION_KINDS, describeCondition, REQUIREMENTS } from "../src/gate/condition.js";
import { workerNext } from "../src/gate/next.js";
import type { GateResult } from "../src/gate/service.js";

/** The gate as gate_status, report_completed and verify_completion answer it. */
export const gateSchema = z.object({
  green: z.boolean().describe("every required condition passed for this exact commit"),
  worker: z.string().nullable(),
  branch: z.string().nullable(),
  head: z.string(),
  tree: z.string(),
  judged_from: z
    .enum(["worktree", "ref", "commit"])
    .describe("ref: a branch judged from its ref (the worktree is not visible); commit: CI's checkout"),
  config: z
    .object({
      from_main: z
        .boolean()
        .describe("false: judged with a config not read from main; it cannot be reported"),
      source: z.string(),
    })
    .describe("where the config the verdict used came from"),
  required: z.array(z.enum(REQUIREMENTS)),
  conditions: z.array(
    z.object({
      kind: z.enum(CONDITION_KINDS),
      rule: z
        .string()
        .nullable()
        .describe("for collision: main, production, out_of_order, branch, lease or duplicate"),
      file: z.string().nullable(),
      passed: z.boolean().nullable().describe("null: not observable here"),
      required: z.boolean(),
      detail: z.string(),
      fix: z.string().nullable(),
      evidence: z.string().nullable(),
    }),
  ),
  unmet: z
    .array(z.string())
    .describe("each failed required condition with its fix, one line each, in the order to fix them"),
  next: z
    .string()
    .describe("the worker's next step, computed from this verdict (its first unmet fix, or report)"),
});

export function gateOutput(g: GateResult): z.infer<typeof gateSchema> {
  return {
    green: g.green,
    worker: g.target.worker,
    branch: g.target.branch,
    head: g.target.head,
    tree: g.target.tree,
    judged_from: g.target.kind,
    config: { from_main: g.trust.fromMain, source: g.trust.source },
    required: g.required,
    conditions: g.conditions.map((c) => ({
      kind: c.kind,
      rule: c.rule,
      file: c.file,
      passed: c.passed,
      required: c.required,
      detail: c.detail,
      fix: c.fix,
      evidence: c.evidence,
    })),
    unmet: g.unmet.map(describeCondition),
    next: workerNext(g),
  };
}
