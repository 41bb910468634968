import { z } from "zod";
import type { FailureReport } from "../src/dryrun/apply.js";
import { mainFailureMeaning } from "../src/dryrun/meaning.js";
import type { DryRunResult } from "../src/dryrun/service.js";
import { nextForWorker } from "../src/gate/next.js";
import type { ToolRegistrar } from "./dispatch.js";
import { fence, ok, runTool, type ToolDeps } from "./result.js";
import { siteOutput, siteSchema, siteText } from "./site-output.js";

export const name = "dry_run_migration";

export const inputSchema = {
  files: z
    .array(z.string().min(1).max(1024))
    .max(500)
    .optional()
    .describe(
      "migration files to rehearse, relative to the repository root; default: every new or changed migration file on this branch since its merge base with main",
    ),
};

const failureOut = z
  .object({
    path: z.string(),
    line: z.number(),
    column: z.number(),
    statement: z.string().describe("the failing statement (untrusted text)"),
    sqlstate: z.string().nullable(),
    message: z.string(),
    detail: z.string().nullable(),
    hint: z.string().nullable(),
    explanation: z
      .string()
      .nullable()
      .describe("the migration on main that explains the failure, when one does"),
  })
  .describe("where and why it failed");

export const outputSchema = {
  passed: z.boolean().describe("every file applied and every slot check passed"),
  run_id: z.string().describe("id of this dry run's record (the completion gate reads it)"),
  baseline: z.object({
    kind: z.enum(["prod", "file", "replay"]),
    id: z.string(),
    description: z.string(),
    pending: z
      .array(z.string())
      .describe("main's migrations applied before yours (they run on the next deploy)"),
    notes: z.array(z.string()),
  }),
  engine: z.object({
    kind: z.enum(["postgres", "pglite"]),
    server_version_num: z.number(),
    limitations: z.array(z.string()).describe("what this engine could not observe"),
  }),
  template: z
    .object({
      key: z.string(),
      built_from: z
        .union([z.literal("cached"), z.literal("snapshot"), z.number()])
        .describe(
          "cached: this process had it; snapshot: loaded from one an earlier process saved; n: built from the key at step n (-1: empty)",
        ),
      ms: z.number(),
    })
    .nullable(),
  mode: z
    .enum(["warm", "disposable", "none"])
    .describe("warm: one transaction, rolled back; disposable: a clone dropped after"),
  files: z.array(
    z.object({
      path: z.string(),
      version: z.number().nullable(),
      name: z.string().nullable(),
      sha256: z.string(),
      status: z.enum(["applied", "failed", "not_run"]),
      duration_ms: z.number().nullable(),
      ran: z.enum(["transaction", "autocommit"]).nullable(),
      locks: z.record(z.string(), z.array(z.string())).nullable().describe("relations locked, by lock mode"),
      failure: failureOut.nullable(),
      slots: z.array(z.object({ check: z.string(), passed: z.boolean(), message: z.string() })),
      lint: z.union([
        z.object({
          findings: z
            .array(
              z.object({
                rule: z.string(),
                level: z.string(),
                message: z.string(),
                help: z.string().nullable().describe("squawk's fix, where it has one"),
                line: z.number(),
                column: z.number(),
                advisory: z.literal(true).describe("lint never fails the dry run or the gate"),
              }),
            )
            .describe("squawk's findings, minus dry_run.lint.ignore's rules: advice, never red"),
        }),
        z.object({ error: z.string() }),
      ]),
      notes: z.array(z.string()),
    }),
  ),
  main_failure: failureOut.nullable().describe("a migration already on main fails against the baseline"),
  smoke: z
    .array(
      z.object({
        query: z.string(),
        status: z.enum(["passed", "broken", "failing_before"]),
        error: z.string().nullable().describe("the database's message (untrusted text)"),
        broken_by: z.object({ path: z.string(), line: z.number(), statement: z.string() }).nullable(),
      }),
    )
    .describe("smoke_sql on the migrated clone: broken is red and names the statement that broke it"),
  site: siteSchema,
  warnings: z.array(z.string()).describe("site-safety warnings: said, never red"),
  next: z.string().describe("your next step, from this run and (after a pass) your gate's state"),
};

export function toOutput(r: DryRunResult, gateNext: string | null = null) {
  return {
    passed: r.passed,
    run_id: r.runId,
    baseline: r.baseline,
    engine: {
      kind: r.engine.kind,
      server_version_num: r.engine.serverVersionNum,
      limitations: r.engine.limitations,
    },
    template: r.template
      ? { key: r.template.key, built_from: r.template.builtFrom, ms: r.template.ms }
      : null,
    mode: r.mode,
    files: r.files.map((f) => ({
      path: f.path,
      version: f.version,
      name: f.name,
      sha256: f.sha256,
      status: f.status,
      duration_ms: f.durationMs === null ? null : Math.round(f.durationMs * 10) / 10,
      ran: f.ran,
      locks: f.locks,
      failure: f.failure,
      slots: f.slots,
      lint:
        "findings" in f.lint
          ? { findings: f.lint.findings.map((x) => ({ ...x, advisory: true as const })) }
          : f.lint,
      notes: f.notes,
    })),
    main_failure: r.mainFailure,
    smoke: r.smoke.map((q) => ({ query: q.query, status: q.status, error: q.error, broken_by: q.brokenBy })),
    site: siteOutput(r.site),
    warnings: r.warnings,
    next: next(r, gateNext),
  };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A failure: where, then the server's own words fenced (a migration can `RAISE` any text, so
 * message, detail and hint are untrusted), then our explanation, then the statement, fenced too.
 */
function describeFailure(f: FailureReport): string {
  const server = [
    f.message,
    ...(f.detail ? [`DETAIL: ${f.detail}`] : []),
    ...(f.hint ? [`HINT: ${f.hint}`] : []),
  ];
  const lines = [
    `${f.path}:${f.line}:${f.column}:${f.sqlstate ? ` [${f.sqlstate}]` : ""}`,
    fence("Error", server.join("\n")),
    ...(f.explanation ? [`Why: ${f.explanation}`] : []),
  ];
  if (f.statement) lines.push(fence("Statement", f.statement));
  return lines.join("\n");
}

/** `gateNext`: the worker's next step from the verdict engine, for a run that passed. */
export function toText(r: DryRunResult, gateNext: string | null = null): string {
  const lines = [
    `${r.passed ? "PASSED" : "FAILED"}: dry run ${r.runId} on ${r.engine.kind} against ${r.baseline.description}.`,
  ];
  if (r.mainFailure)
    lines.push(`${capitalize(mainFailureMeaning(r.baseline.kind))}:\n${describeFailure(r.mainFailure)}`);
  for (const f of r.files) {
    const ms = f.durationMs === null ? "" : ` in ${f.durationMs.toFixed(0)} ms`;
    lines.push(`- ${f.path}: ${f.status}${ms}`);
    if (f.failure) lines.push(describeFailure(f.failure));
    for (const s of f.slots.filter((x) => !x.passed)) lines.push(`  slot check ${s.check}: ${s.message}`);
    for (const n of f.notes) lines.push(`  note: ${n}`);
    if ("findings" in f.lint && f.lint.findings.length > 0) {
      lines.push(
        "  squawk (advisory: it never fails the dry run; mute a rule with dry_run.lint.ignore on main):",
      );
      for (const x of f.lint.findings)
        lines.push(`    line ${x.line} ${x.rule}: ${x.message}${x.help ? ` Fix: ${x.help}` : ""}`);
    }
    if (f.locks) {
      const held = Object.entries(f.locks).map(([mode, rels]) => `${mode} on ${rels.join(", ")}`);
      if (held.length > 0) lines.push(`  locks: ${held.join("; ")}`);
    }
  }
  for (const q of r.smoke.filter((x) => x.status !== "passed")) {
    const by = q.brokenBy
      ? ` after ${q.brokenBy.path}:${q.brokenBy.line}`
      : " already on the baseline (not your doing)";
    lines.push(
      `smoke_sql ${q.status === "broken" ? "BROKEN" : "already failing"}${by}:\n${fence("Query", q.query)}\n${fence("Error", q.error ?? "")}`,
    );
    if (q.brokenBy) lines.push(fence("Statement that broke it", q.brokenBy.statement));
  }
  lines.push(...siteText(r.site));
  for (const note of [...r.baseline.notes, ...r.engine.limitations]) lines.push(`Note: ${note}`);
  lines.push(next(r, gateNext));
  return lines.join("\n");
}

/** The next step from what this run found. */
function next(r: DryRunResult, gateNext: string | null): string {
  if (r.passed)
    return gateNext ?? "Next: commit the file(s), run_pre_push_suite, push, then report_completed.";
  const onlySite =
    r.files.every((f) => f.status === "applied" && f.slots.every((c) => c.passed)) &&
    !r.mainFailure &&
    !r.smoke.some((q) => q.status === "broken");
  if (onlySite)
    return "Next: the files apply, but the site would not stay up: change them to the safe pattern each RED names (or, for a deliberate contract step or lock, add the marker it names), then dry-run again.";
  return "Next: fix the file(s) above and dry-run again.";
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Dry-run migrations",
      description: `Rehearse your branch's migration files before pushing: they are applied, with the app's transaction semantics, on a throwaway clone of production's schema plus main's migrations that production has not applied yet, then rolled back. Call it after writing or changing a migration, and again after every fix, until it passes; the completion gate requires a passing dry run for the exact content of each file.

The answer gives, per file: applied or failed, duration, the locks it held, squawk lint findings, and slot checks (your lease, no clash with main or production). A failure names the file, line, statement, SQLSTATE and message, and explains it where main's history can: e.g. "column is_mandatory does not exist — migration 091_drop_rule_flags.sql dropped it". Fix your SQL against the schema as it is now, not as you remember it. If main_failure is set, main itself is broken: report it to the head.

Site safety is part of passing: the queries the live app runs (production's pg_stat_statements, query files, smoke_sql) are prepared before and after your files — one that breaks is red, since the old binary serves during the swap and after any rollback; with prod.probe, statements that validate rows are checked against production's data; a blocking lock on a large table is red; other open branches' migrations are rehearsed before yours as a warning. Each RED names the safe pattern (expand/contract, NOT VALID then VALIDATE, CREATE INDEX CONCURRENTLY).`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Dry-run migrations",
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args, extra) =>
      runTool(deps, name, async () => {
        const { dryRun } = await import("../src/dryrun/service.js");
        const result = await dryRun(deps.workspace, { files: args.files, signal: extra.signal });
        const gateNext = result.passed ? await nextForWorker(deps.workspace) : null;
        return ok(toOutput(result, gateNext), toText(result, gateNext));
      }),
  );
}
