import type { ProbePlan } from "./probe-plans.js";
import type { ProbeResult } from "./probe-run.js";
import type { SiteFinding } from "./types.js";

/** SQLSTATEs a conversion fails with, by name (the server's message would quote the value). */
const DATA_ERRORS: Record<string, string> = {
  "22P02": "invalid text representation",
  "22003": "numeric value out of range",
  "22001": "string data right truncation",
  "22007": "invalid datetime format",
  "22008": "datetime field overflow",
  "22012": "division by zero",
  "22023": "invalid parameter value",
  "23502": "not null violation",
  "23514": "check violation",
};

const table = (p: ProbePlan) =>
  p.table.schema && p.table.schema !== "public" ? `${p.table.schema}.${p.table.name}` : p.table.name;

/** `(e.g. id 50, 100, 150)`, or nothing without a primary key. */
function examples(r: Extract<ProbeResult, { status: "violations" }>): string {
  if (r.keys.length === 0 || r.keyColumns.length === 0) return " (no primary key to name examples by)";
  const cols = r.keyColumns.length === 1 ? r.keyColumns[0]! : `(${r.keyColumns.join(", ")})`;
  return ` (e.g. ${cols} ${r.keys.join(", ")})`;
}

function describe(p: ProbePlan): { words: string; fix: string } {
  switch (p.kind) {
    case "rows":
      return { words: p.describe, fix: p.fix };
    case "unique":
      return {
        words: p.describe,
        fix: "Resolve the duplicates first (merge or delete them, in batches), then build the index with CREATE UNIQUE INDEX CONCURRENTLY (and ADD CONSTRAINT … UNIQUE USING INDEX).",
      };
    case "foreign_key":
      return {
        words: `have ${p.columns.join(", ")} with no matching row in ${p.parent.name}`,
        fix: "Fix or remove the orphaned rows first, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID, and VALIDATE CONSTRAINT in a later migration.",
      };
    case "cast":
      return {
        words: `have ${p.column} values that do not convert to ${p.type.replaceAll('"', "")}`,
        fix: "Clean the values that do not convert first, or write a USING expression that handles them (NULLIF, CASE); safer still: a new column, backfilled in batches, then a switch.",
      };
    case "unverified":
      return { words: "", fix: "" };
  }
}

/**
 * Probe results as findings: rows that would make the statement fail at deploy are red ("fails on
 * production's data: 1,000 users have name NULL (e.g. id 50, 100, 150)"); a probe that could not
 * decide (a timeout, an expression mai-gate does not evaluate) is not_verified, neither green nor red.
 */
export function dataFindings(entries: { plan: ProbePlan; result: ProbeResult }[]): SiteFinding[] {
  const out: SiteFinding[] = [];
  for (const { plan, result } of entries) {
    const base = { check: "data" as const, file: plan.path, line: plan.line, acknowledged: null };
    const { words, fix } = describe(plan);
    if (result.status === "violations") {
      out.push({
        ...base,
        severity: "red",
        message: `${plan.what} fails on production's data: ${result.count.toLocaleString("en-US")} ${table(plan)} ${words}${examples(result)}`,
        fix,
      });
    } else if (result.status === "cast_fails") {
      const name = DATA_ERRORS[result.sqlstate] ?? "a data exception";
      out.push({
        ...base,
        severity: "red",
        message: `${plan.what} fails on production's data: converting ${table(plan)}.${plan.kind === "cast" ? plan.column : "?"} fails on at least one row ([${result.sqlstate}] ${name})`,
        fix,
      });
    } else if (result.status === "not_verified") {
      out.push({
        ...base,
        severity: "not_verified",
        message: `${plan.what} on ${table(plan)} is not verified against production's data: ${result.reason}`,
        fix: null,
      });
    }
  }
  return out;
}
