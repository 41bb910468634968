import type { Condition } from "../gate/conditions.js";

/**
 * What `mai-gate check` found, in a shape every output format (human, GitHub/Gitea annotations,
 * JUnit) reads. `unparseable`, `collision` and `no_edits` are the gate's own conditions.
 */
export type CheckName =
  | "catalog"
  | "history"
  | "unparseable"
  | "collision"
  | "no_edits"
  | "dry_run"
  | "main_pending";

export interface CheckFinding {
  check: CheckName;
  severity: "error" | "warning";
  /** Path relative to the repository root, when the finding is about a file. */
  file: string | null;
  /** 1-based line, when known. */
  line: number | null;
  message: string;
}

/** One check that ran (or could not), and over which files, for JUnit test cases and the summary. */
export interface CheckRun {
  check: CheckName;
  /** passed / failed / skipped (with why). */
  status: "passed" | "failed" | "skipped";
  detail: string;
  /** Files the check looked at (JUnit makes one test case per file; none: one case for the check). */
  files: string[];
  durationMs: number;
}

export interface CheckResult {
  passed: boolean;
  runs: CheckRun[];
  findings: CheckFinding[];
  /** The verdict engine's conditions for this commit (CI scope): the same the gate computes. */
  conditions: (Condition & { required: boolean })[];
  /** e.g. "main origin/main at 1a2b3c4, branch mai/ann/x at 5d6e7f8, production: checked". */
  context: string[];
}

/** Exit codes of `mai-gate check`: documented in the README. */
export const EXIT = { passed: 0, failed: 1, usage: 2, couldNotRun: 3 } as const;
