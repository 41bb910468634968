import { z } from "zod";

/** Output pieces several tools share, so every tool describes a source the same way. */

export const fetchSchema = z
  .object({
    status: z
      .enum(["fetched", "skipped", "failed"])
      .describe("whether remote refs were refreshed before deciding"),
    detail: z.string().describe("the remote and timing, why it was skipped, or the error"),
  })
  .describe("the git fetch before deciding");

export const productionSchema = z
  .object({
    status: z
      .enum(["checked", "unreachable", "not_configured"])
      .describe("checked: production's history was read; otherwise it was NOT consulted"),
    max_version: z.number().nullable().describe("highest version in production's history"),
    applied: z.number().describe("rows read from the history table"),
    names_known: z.boolean().describe("false when the history format stores no names (name checks skipped)"),
    dirty: z.boolean().describe("golang-migrate's dirty flag: production's migrator is stuck"),
    detail: z.string().describe("what was read, or why it could not be"),
  })
  .describe("production's migration history as consulted for this answer");

import type { FetchOutcome } from "../src/git/repo.js";
import type { ProductionReport } from "../src/slots/report.js";

export function fetchOut(f: FetchOutcome): z.infer<typeof fetchSchema> {
  switch (f.status) {
    case "fetched":
      return { status: "fetched", detail: `${f.remote} in ${f.ms} ms` };
    case "skipped":
      return { status: "skipped", detail: f.reason };
    case "failed":
      return { status: "failed", detail: `${f.remote}: ${f.error}` };
  }
}

export function productionOut(p: ProductionReport): z.infer<typeof productionSchema> {
  return {
    status: p.status,
    max_version: p.maxVersion,
    applied: p.applied,
    names_known: p.namesKnown,
    dirty: p.dirty,
    detail: p.detail,
  };
}
