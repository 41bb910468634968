import { z } from "zod";
import type { GateResult } from "../src/gate/service.js";

/** The gate as both gate_status and report_completed answer it. */
export const gateSchema = z.object({
  green: z.boolean().describe("every required condition passed for this exact HEAD"),
  worker: z.string(),
  branch: z.string(),
  head: z.string(),
  tree: z.string(),
  judged_from: z
    .enum(["worktree", "ref"])
    .describe("ref: the head looked at a branch; the worktree is not visible"),
  required: z.array(z.enum(["clean_tree", "suite", "migrations"])),
  conditions: z.array(
    z.object({
      kind: z.enum(["clean_tree", "suite", "lease", "dry_run", "collision", "no_edits"]),
      file: z.string().nullable(),
      passed: z.boolean().nullable().describe("null: not observable here"),
      required: z.boolean(),
      detail: z.string(),
      fix: z.string().nullable(),
      evidence: z.string().nullable(),
    }),
  ),
  unmet: z.array(z.string()).describe("each failed required condition with its fix, in one line"),
});

export function gateOutput(g: GateResult): z.infer<typeof gateSchema> {
  return {
    green: g.green,
    worker: g.target.worker,
    branch: g.target.branch,
    head: g.target.head,
    tree: g.target.tree,
    judged_from: g.target.kind,
    required: g.required,
    conditions: g.conditions.map((c) => ({
      kind: c.kind,
      file: c.file,
      passed: c.passed,
      required: c.required,
      detail: c.detail,
      fix: c.fix,
      evidence: c.evidence,
    })),
    unmet: g.unmet.map((c) => `${c.kind}${c.file ? ` ${c.file}` : ""}: ${c.detail}. Fix: ${c.fix}`),
  };
}
