import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chainKeys } from "../../src/dryrun/templates.js";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { structured, textOf } from "../helpers/mcp.js";

/** Replays real directories need (scratch.prelude), honest wording for them, and smoke_sql. */
interface DryRun {
  passed: boolean;
  main_failure: { message: string } | null;
  files: { status: string }[];
  smoke: {
    query: string;
    status: string;
    error: string | null;
    broken_by: { path: string; line: number; statement: string } | null;
  }[];
}

const migratorTable = {
  1: ["create_t1", "CREATE TABLE t1 (id bigint PRIMARY KEY, note text);\n"] as [string, string],
  2: ["track_dirty", "ALTER TABLE schema_migrations ADD COLUMN dirty boolean NOT NULL DEFAULT false;\n"] as [
    string,
    string,
  ],
};

describe("replays that real directories need", () => {
  const apps: App[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.cleanup()));
  });
  const appWith = async (scratch: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const app = await createApp({
      migrations: mainMigrations(2, migratorTable),
      appliedUpTo: 0,
      config: { scratch: { dsn: "env:SCRATCH_DSN", baseline: "replay", ...scratch }, ...extra },
      prodExtraSql: "CREATE TABLE schema_migrations (version bigint PRIMARY KEY);",
    });
    apps.push(app);
    return app;
  };
  const dryRun = async (app: App, branch: string, file: string, sql: string) => {
    const c = await app.session(branch);
    await writeFile(join((await c.workspace.repo()).root, MIG_DIR, file), sql);
    return c.call("dry_run_migration", {});
  };

  it("a main migration that alters the migrator's own table fails a bare replay, worded as a replay", async () => {
    const app = await appWith({});
    const r = await dryRun(app, "mai/rep/bare", "003_x.sql", "SELECT 1;\n");
    const out = structured<DryRun>(r);
    expect(out.main_failure?.message).toContain('relation "schema_migrations" does not exist');
    expect(textOf(r)).toContain("fails on a replay of main's migrations from an empty database");
    expect(textOf(r)).not.toContain("the next deploy will fail");
  });

  it("with scratch.prelude creating the migrator's table, the replay passes", async () => {
    const app = await appWith({ prelude: ["CREATE TABLE schema_migrations (version bigint PRIMARY KEY)"] });
    const out = structured<DryRun>(await dryRun(app, "mai/rep/prelude", "003_x.sql", "SELECT 1;\n"));
    expect(out.main_failure).toBeNull();
    expect(out.files[0]!.status).toBe("applied");
  });

  it("the runner and the prelude are part of the template key", () => {
    const base = {
      kind: "replay" as const,
      id: "r",
      description: "",
      schemaSql: null,
      pending: [],
      main: [],
      notes: [],
    };
    const one = chainKeys({ ...base, prelude: [], runner: "maigate_runner" })[0];
    expect(chainKeys({ ...base, prelude: [], runner: "someone_else" })[0]).not.toBe(one);
    expect(chainKeys({ ...base, prelude: ["CREATE ROLE app"], runner: "maigate_runner" })[0]).not.toBe(one);
    expect(chainKeys({ ...base, prelude: [], runner: "maigate_runner" })[0]).toBe(one);
  });

  it("smoke_sql: a query the branch breaks names the statement; one already failing is not red", async () => {
    const app = await appWith(
      { prelude: ["CREATE TABLE schema_migrations (version bigint PRIMARY KEY)"] },
      { smoke_sql: ["SELECT note FROM t1 LIMIT 1", "SELECT nope FROM t1"] },
    );
    const sql = "ALTER TABLE t1 ADD COLUMN extra int;\nALTER TABLE t1 DROP COLUMN note;\n";
    const r = await dryRun(app, "mai/smo/ke", "003_drop_note.sql", sql);
    const out = structured<DryRun>(r);
    expect(out.passed).toBe(false);
    const [broken, before] = out.smoke;
    expect(broken).toMatchObject({
      status: "broken",
      broken_by: { path: `${MIG_DIR}/003_drop_note.sql`, line: 2 },
    });
    expect(broken!.broken_by!.statement).toContain("DROP COLUMN note");
    expect(broken!.error).toContain('column "note" does not exist');
    expect(before).toMatchObject({ status: "failing_before" });
    expect(textOf(r)).toContain("smoke_sql BROKEN after");
    const fine = structured<DryRun>(
      await dryRun(app, "mai/smo/fine", "003_add.sql", "ALTER TABLE t1 ADD COLUMN extra int;\n"),
    );
    expect(fine.smoke.map((q) => q.status)).toEqual(["passed", "failing_before"]);
  });
});
