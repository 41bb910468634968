import { describeCondition } from "./condition.js";
import type { GateResult } from "./service.js";

/** Plain sentences: the verdict and each unmet condition with its fix. */
export function describeGate(g: GateResult): string {
  const where = g.target.branch ?? "(no branch)";
  const who = g.target.worker ?? "no worker";
  const head = `Gate for ${who} on ${where} at ${g.target.head.slice(0, 10)}: ${g.green ? "GREEN" : "RED"}.`;
  const lines = [head];
  if (g.green) {
    const passed = g.conditions
      .filter((c) => c.passed === true)
      .map((c) => `${c.kind}${c.file ? ` ${c.file}` : ""}`);
    lines.push(`Passed: ${[...new Set(passed)].join("; ")}.`);
  }
  for (const c of g.unmet) lines.push(`- ${describeCondition(c)}`);
  if (g.target.kind === "ref")
    lines.push("Judged from the branch's ref: the worktree's cleanliness is not visible from here.");
  return lines.join("\n");
}
