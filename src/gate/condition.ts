/**
 * The verdict's conditions, each a pure function of the facts (no I/O): the gate, `mai-gate check`,
 * the status page and the head's verification all compute them in `conditions.ts` and
 * `evidence.ts`, and nowhere else. This module holds their shape.
 */
export const CONDITION_KINDS = [
  "main_config",
  "unparseable",
  "lease",
  "collision",
  "no_edits",
  "dry_run",
  "clean_tree",
  "suite",
  "pushed",
] as const;
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** What `gate.require` may name; each condition counts toward one (main_config always counts). */
export const REQUIREMENTS = ["clean_tree", "suite", "migrations", "pushed"] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

/** The longest completion summary report_completed takes. */
export const MAX_SUMMARY = 8000;

/** One condition: passed, failed, or not observable (null), and how to fix it. */
export interface Condition {
  kind: ConditionKind;
  /** Which slot rule a collision broke (main, production, out_of_order, branch, lease, duplicate). */
  rule: string | null;
  /** The migration file it is about, for per-file conditions. */
  file: string | null;
  passed: boolean | null;
  detail: string;
  fix: string | null;
  /** Id of the record that satisfied it (suite run, dry run, lease). */
  evidence: string | null;
}

type Draft = Omit<Condition, "rule" | "evidence" | "fix"> &
  Partial<Pick<Condition, "rule" | "evidence" | "fix">>;

export const make = (c: Draft): Condition => ({ rule: null, evidence: null, fix: null, ...c });
export const pass = (
  kind: ConditionKind,
  file: string | null,
  detail: string,
  evidence: string | null = null,
) => make({ kind, file, passed: true, detail, evidence });
export const fail = (
  kind: ConditionKind,
  file: string | null,
  detail: string,
  fix: string,
  rule: string | null = null,
) => make({ kind, file, passed: false, detail, fix, rule });

/** One line per unmet condition: `kind[/rule] file: detail. Fix: …`. */
export function describeCondition(c: Condition): string {
  return `${c.kind}${c.rule ? `/${c.rule}` : ""}${c.file ? ` ${c.file}` : ""}: ${c.detail}.${c.fix ? ` Fix: ${c.fix}` : ""}`;
}
