import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { workerSession } from "../helpers/completion.js";
import { structured, textOf } from "../helpers/mcp.js";

interface DryRun {
  passed: boolean;
  files: {
    path: string;
    notes: string[];
    lint: { findings: { rule: string; help: string | null; advisory: boolean }[] } | { error: string };
  }[];
}

const findings = (r: DryRun) => {
  const lint = r.files[0]!.lint;
  return "findings" in lint ? lint.findings : [];
};

/** What a dry run says beyond pass or fail: lint as advice, and what it did not rehearse. */
describe("dry_run_migration: advisory lint, muted rules, and what was not rehearsed", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(2),
      appliedUpTo: 2,
      config: { dry_run: { lint: { ignore: ["prefer-identity"] } } },
    });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("squawk's findings are advisory with its fix; a muted rule is gone; the run passes", async () => {
    const w = await workerSession(app, "mai/sam/lint");
    const lease = structured<{ leases: { files: string[] }[] }>(
      await w.c.call("reserve_migration_slot", { name: "add_counter" }),
    ).leases[0]!;
    await writeFile(
      join(w.root, lease.files[0]!),
      "CREATE TABLE counter (id serial PRIMARY KEY, n int);\nALTER TABLE t1 ADD COLUMN flag boolean;\n",
    );
    const result = await w.c.call("dry_run_migration", {});
    const r = structured<DryRun>(result);
    expect(r.passed).toBe(true);
    const rules = findings(r).map((f) => f.rule);
    expect(rules).toContain("prefer-bigint-over-int");
    expect(rules).not.toContain("prefer-identity");
    expect(findings(r).every((f) => f.advisory)).toBe(true);
    expect(findings(r).find((f) => f.rule === "prefer-bigint-over-int")?.help).toMatch(/64-bit/);
    const text = textOf(result);
    expect(text).toContain(
      "squawk (advisory: it never fails the dry run; mute a rule with dry_run.lint.ignore on main)",
    );
    expect(text).toMatch(/prefer-bigint-over-int: .* Fix: Use 64-bit integer values/);
  });

  it("a statement that changes rows says it touched 0 rows here and that production's data was not rehearsed", async () => {
    const w = await workerSession(app, "mai/tia/data");
    const lease = structured<{ leases: { files: string[] }[] }>(
      await w.c.call("reserve_migration_slot", { name: "backfill_note" }),
    ).leases[0]!;
    await writeFile(
      join(w.root, lease.files[0]!),
      "ALTER TABLE t2 ADD COLUMN tag text;\nUPDATE t2 SET tag = note WHERE tag IS NULL;\n",
    );
    const result = await w.c.call("dry_run_migration", {});
    const r = structured<DryRun>(result);
    expect(r.passed).toBe(true);
    expect(r.files[0]!.notes).toContain(
      "line 2: this UPDATE touched 0 row(s) here — the clone has production's schema, not its rows: what it does to production's data (and how long it takes there) is not rehearsed",
    );
    expect(textOf(result)).toContain("note: line 2: this UPDATE touched 0 row(s) here");
  });
});
