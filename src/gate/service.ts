import { requireRole } from "../identity.js";
import { gatherRepoState, type RepoState } from "../slots/sources.js";
import type { Workspace } from "../workspace.js";
import {
  type Condition,
  cleanTree,
  currentTemplateKey,
  dryRunPassed,
  leaseHeld,
  noCollision,
  noEdits,
  suitePassed,
} from "./conditions.js";
import { branchMigrations } from "./migrations.js";
import { type GateTarget, gateTarget } from "./target.js";

export const REQUIREMENTS = ["clean_tree", "suite", "migrations"] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

export interface GateResult {
  target: GateTarget;
  green: boolean;
  required: Requirement[];
  conditions: (Condition & { required: boolean })[];
  /** The failed required conditions: what stands between the worker and completion. */
  unmet: Condition[];
  /** Record ids the verdict rests on. */
  evidence: { suiteRun: string | null; dryRuns: string[]; leases: string[] };
}

const REQUIREMENT_OF: Record<Condition["kind"], Requirement> = {
  clean_tree: "clean_tree",
  suite: "suite",
  lease: "migrations",
  dry_run: "migrations",
  collision: "migrations",
  no_edits: "migrations",
};

/**
 * Every gate condition for a worker's current HEAD (or, for the head, a branch's ref), recomputed
 * now: only suite and dry-run results are read from the record, by their content keys.
 */
export async function gateStatus(
  ws: Workspace,
  input: { branch?: string | undefined; worker?: string | undefined } = {},
): Promise<GateResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  requireRole(state.view.identity, ["worker", "head", "tester"], "read a gate");
  const target = await gateTarget(ws, state, input);
  return evaluate(ws, state, target);
}

export async function evaluate(ws: Workspace, state: RepoState, target: GateTarget): Promise<GateResult> {
  const required = (state.config.gate?.require ?? [...REQUIREMENTS]) as Requirement[];
  const [migrations, dirtyPaths, open] = await Promise.all([
    branchMigrations(ws, state, target.head),
    target.dirty ? dirtyFiles(ws) : Promise.resolve([]),
    state.store.listLeases({ includeEnded: false, limit: 10_000 }),
  ]);
  const conditions: Condition[] = [cleanTree(target, dirtyPaths), await suitePassed(state, target)];
  if (migrations.added.length > 0) {
    const [templateKey, records] = await Promise.all([
      currentTemplateKey(ws, state),
      Promise.all(migrations.added.map((f) => state.store.dryRuns({ file: f.path, limit: 50 }))),
    ]);
    migrations.added.forEach((file, i) => {
      conditions.push(leaseHeld(file, open, target.worker));
      conditions.push(dryRunPassed(file, records[i]!, templateKey));
      conditions.push(noCollision(file, state));
    });
  }
  conditions.push(noEdits(migrations.edited, state));
  const marked = conditions.map((c) => ({ ...c, required: required.includes(REQUIREMENT_OF[c.kind]) }));
  const unmet = marked.filter((c) => c.required && c.passed === false);
  const ids = (kind: Condition["kind"]) =>
    marked.filter((c) => c.kind === kind && c.evidence).map((c) => c.evidence!);
  return {
    target,
    green: unmet.length === 0,
    required,
    conditions: marked,
    unmet,
    evidence: { suiteRun: ids("suite")[0] ?? null, dryRuns: ids("dry_run"), leases: ids("lease") },
  };
}

async function dirtyFiles(ws: Workspace): Promise<string[]> {
  const r = await ws.git.run(["status", "--porcelain", "--untracked-files=normal"]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(3));
}

/** Plain sentences: the verdict and each unmet condition with its fix. */
export function describeGate(g: GateResult): string {
  const head = `Gate for ${g.target.worker} on ${g.target.branch} at ${g.target.head.slice(0, 10)}: ${g.green ? "GREEN" : "RED"}.`;
  const lines = [head];
  if (g.green) {
    const passed = g.conditions
      .filter((c) => c.passed === true)
      .map((c) => `${c.kind}${c.file ? ` ${c.file}` : ""}`);
    lines.push(`Passed: ${passed.join("; ")}.`);
  }
  for (const c of g.unmet) lines.push(`- ${c.kind}${c.file ? ` ${c.file}` : ""}: ${c.detail}. Fix: ${c.fix}`);
  if (g.target.kind === "ref")
    lines.push("Judged from the branch's ref: the worktree's cleanliness is not visible from here.");
  return lines.join("\n");
}
