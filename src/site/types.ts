/**
 * Site safety: beyond "the migration applies", does the site stay up? Four checks add findings to a
 * rehearsal — the live binary's queries, production's data, lock impact, other open branches.
 */

export type SiteCheck = "live_binary" | "data" | "lock" | "other_branch";

/**
 * red: the dry run fails; warning: said, never red (an acknowledged contract step or long lock, an
 * other branch's clash); not_verified: the check could not decide (a probe timed out) — neither.
 */
export type SiteSeverity = "red" | "warning" | "not_verified";

/** A query the live app runs, prepared before and after the branch's files. */
export interface AppQuery {
  /** The statement (untrusted text), with `$1`… where pg_stat_statements normalised constants. */
  text: string;
  /** Calls recorded by pg_stat_statements; null for query files and smoke_sql. */
  calls: number | null;
  /** `pg_stat_statements`, `smoke_sql`, or the query file's path (with the sqlc name when given). */
  source: string;
}

export interface SiteFinding {
  check: SiteCheck;
  severity: SiteSeverity;
  /** The branch's file responsible, when one is (path relative to the repository root). */
  file: string | null;
  line: number | null;
  /** One sentence; may quote a query or statement (untrusted text). */
  message: string;
  /** The safe pattern to use instead. */
  fix: string | null;
  /** The file's marker that made a red finding a warning (`-- mai-gate: contract users.email`). */
  acknowledged: string | null;
  /** live_binary: the queries it breaks, most-called first (at most 10). */
  queries?: AppQuery[];
}

export interface SiteReport {
  findings: SiteFinding[];
  /** What was checked and what could not be, each said once. */
  notes: string[];
  /**
   * Live-binary compatibility: queries collected per source; how many name what the branch changes
   * (those were prepared before and after), and how many of those already failed before.
   */
  queries: { sources: Record<string, number>; collected: number; prepared: number; failingBefore: number };
}

export const emptySiteReport = (): SiteReport => ({
  findings: [],
  notes: [],
  queries: { sources: {}, collected: 0, prepared: 0, failingBefore: 0 },
});

/** Whether any finding makes the dry run red. */
export function siteRed(report: SiteReport): boolean {
  return report.findings.some((f) => f.severity === "red");
}
