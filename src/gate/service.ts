import type { BaselineDeps } from "../dryrun/baseline.js";
import { requireRole } from "../identity.js";
import { gatherRepoState, type RepoState, type RepoStateDeps } from "../repo/state.js";
import { REQUIREMENTS, type Requirement } from "./condition.js";
import { type Condition, type ConditionKind, conditionsOf } from "./conditions.js";
import { type ConfigTrust, type GateFacts, gatherFacts } from "./facts.js";
import { type GateTarget, gateTarget } from "./target.js";

/** What judging a gate uses of `Deps`: the repository state and the evidence. */
export type GateDeps = RepoStateDeps & BaselineDeps;

export { describeCondition, REQUIREMENTS, type Requirement } from "./condition.js";
export { describeGate } from "./describe.js";

export interface GateResult {
  /** gate: every condition for a worker's HEAD; ci: those that need none of the worker's records. */
  scope: GateFacts["scope"];
  target: GateTarget;
  green: boolean;
  required: Requirement[];
  conditions: (Condition & { required: boolean })[];
  /** The failed required conditions: what stands between the worker and completion, in fix order. */
  unmet: Condition[];
  /** Record ids the verdict rests on. */
  evidence: { suiteRun: string | null; dryRuns: string[]; leases: string[] };
  trust: ConfigTrust;
}

const REQUIREMENT_OF: Record<ConditionKind, Requirement | null> = {
  main_config: null,
  clean_tree: "clean_tree",
  suite: "suite",
  unparseable: "migrations",
  lease: "migrations",
  dry_run: "migrations",
  collision: "migrations",
  no_edits: "migrations",
  pushed: "pushed",
};

/**
 * Every gate condition for a worker's current HEAD (or, for the head, a branch's ref), recomputed
 * now from facts read once: only suite and dry-run results come from the record, by content keys.
 */
export async function gateStatus(
  ws: GateDeps,
  input: { branch?: string | undefined; worker?: string | undefined; sha?: string | undefined } = {},
): Promise<GateResult> {
  const state = await gatherRepoState(ws, { fetch: true });
  requireRole(state.view.identity, ["worker", "head", "tester"], "read a gate");
  const target = await gateTarget(ws.git, state, input);
  return evaluate(ws, state, target);
}

/** Gathers the facts for `target` and judges them. */
export async function evaluate(
  ws: GateDeps,
  state: RepoState,
  target: GateTarget,
  scope: GateFacts["scope"] = "gate",
): Promise<GateResult> {
  return judge(await gatherFacts(ws, state, target, scope));
}

/** The verdict: a pure function of the facts. Conditions a config does not require are shown, not counted. */
export function judge(f: GateFacts): GateResult {
  const required =
    f.scope === "ci"
      ? [...REQUIREMENTS]
      : ((f.state.config.gate?.require ?? [...REQUIREMENTS]) as Requirement[]);
  const marked = conditionsOf(f).map((c) => {
    const need = REQUIREMENT_OF[c.kind];
    return { ...c, required: need === null || required.includes(need) };
  });
  const unmet = marked.filter((c) => c.required && c.passed === false);
  const ids = (kind: ConditionKind) =>
    marked.filter((c) => c.kind === kind && c.evidence).map((c) => c.evidence!);
  return {
    scope: f.scope,
    target: f.target,
    green: unmet.length === 0,
    required,
    conditions: marked,
    unmet,
    evidence: { suiteRun: ids("suite")[0] ?? null, dryRuns: ids("dry_run"), leases: ids("lease") },
    trust: f.trust,
  };
}
