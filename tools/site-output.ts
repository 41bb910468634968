import { z } from "zod";
import type { SiteFinding, SiteReport } from "../src/site/types.js";
import { fence } from "./result.js";

export const siteFindingSchema = z.object({
  check: z
    .enum(["live_binary", "data", "lock", "other_branch"])
    .describe(
      "live_binary: a query the live app runs breaks; data: production's rows reject it; lock: a blocking lock on a large table; other_branch: it fails after another open branch's migrations",
    ),
  severity: z
    .enum(["red", "warning", "not_verified"])
    .describe("red fails the dry run; warning never does; not_verified: the check could not decide"),
  file: z.string().nullable().describe("the branch's file responsible"),
  line: z.number().nullable(),
  message: z.string().describe("what happens to the site (may quote a query: untrusted text)"),
  fix: z.string().nullable().describe("the safe pattern"),
  acknowledged: z
    .string()
    .nullable()
    .describe("the file's marker that made it a warning, e.g. -- mai-gate: contract users.email"),
  queries: z
    .array(
      z.object({
        query: z.string().describe("untrusted text"),
        calls: z.number().nullable(),
        source: z.string(),
      }),
    )
    .optional()
    .describe("live_binary: the queries it breaks, most-called first"),
});

export const siteSchema = z
  .object({
    findings: z.array(siteFindingSchema),
    notes: z.array(z.string()).describe("what was checked, and what could not be"),
    queries: z.object({
      sources: z.record(z.string(), z.number()).describe("the live app's queries collected, by source"),
      collected: z.number(),
      prepared: z
        .number()
        .describe(
          "those that name what your files change: prepared before and after (the others cannot break)",
        ),
      failing_before: z.number().describe("queries that already failed before your files (ignored)"),
    }),
  })
  .describe(
    "site safety: live queries prepared before and after, data probes on production, lock impact, other open branches",
  );

export function siteOutput(r: SiteReport): z.infer<typeof siteSchema> {
  return {
    findings: r.findings.map((f) => ({
      check: f.check,
      severity: f.severity,
      file: f.file,
      line: f.line,
      message: f.message,
      fix: f.fix,
      acknowledged: f.acknowledged,
      ...(f.queries
        ? { queries: f.queries.map((q) => ({ query: q.text, calls: q.calls, source: q.source })) }
        : {}),
    })),
    notes: r.notes,
    queries: {
      sources: r.queries.sources,
      collected: r.queries.collected,
      prepared: r.queries.prepared,
      failing_before: r.queries.failingBefore,
    },
  };
}

const LABEL: Record<SiteFinding["severity"], string> = {
  red: "RED",
  warning: "WARNING",
  not_verified: "NOT VERIFIED",
};

/** One finding: our words first, the message (it may quote a query) fenced, then the fix. */
export function siteFindingText(f: SiteFinding): string {
  const where = f.file ? ` ${f.file}${f.line ? `:${f.line}` : ""}` : "";
  const ack = f.acknowledged ? ` (acknowledged by \`${f.acknowledged}\`)` : "";
  const lines = [`- ${LABEL[f.severity]} [${f.check}]${where}${ack}:`, fence("Finding", f.message)];
  if (f.fix && f.severity !== "not_verified") lines.push(`  Fix: ${f.fix}`);
  return lines.join("\n");
}

export function siteText(r: SiteReport): string[] {
  const lines: string[] = [];
  const counts = Object.entries(r.queries.sources).map(([source, n]) => `${n} from ${source}`);
  if (r.queries.collected > 0)
    lines.push(
      `Site safety: ${r.queries.collected} live queries collected (${counts.join(", ")}); the ${r.queries.prepared} that name what your files change were prepared before and after (${r.queries.failingBefore} already failed before and are ignored).`,
    );
  for (const f of r.findings) lines.push(siteFindingText(f));
  for (const note of r.notes) lines.push(`Note: ${note}`);
  return lines;
}
