import { writeFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import type { Connected } from "../helpers/mcp.js";
import { structured, textOf } from "../helpers/mcp.js";
import { PG_ADMIN } from "../helpers/pg.js";

interface Report {
  passed: boolean;
  run_id: string;
  mode: string;
  baseline: { kind: string; id: string; description: string; pending: string[]; notes: string[] };
  engine: { kind: string; limitations: string[] };
  template: { key: string; built_from: "cached" | number } | null;
  files: {
    path: string;
    status: string;
    ran: string | null;
    locks: Record<string, string[]> | null;
    failure: {
      line: number;
      column: number;
      statement: string;
      sqlstate: string;
      message: string;
      explanation: string | null;
    } | null;
    slots: { check: string; passed: boolean; message: string }[];
    lint: { findings: { rule: string; line: number }[] } | { error: string };
    notes: string[];
  }[];
  main_failure: { path: string; message: string } | null;
}

/** Reserve a slot as a worker would, write the migration there, and return its repository path. */
async function writeMigration(c: Connected, name: string, sql: string): Promise<string> {
  const r = structured<{ leases: { files: string[]; paths: string[] }[] }>(
    await c.call("reserve_migration_slot", { name }),
  );
  await writeFile(r.leases[0]!.paths[0]!, sql);
  return r.leases[0]!.files[0]!;
}

async function scratchDatabases(prefix: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  const r = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [
    `${prefix}%`,
  ]);
  await admin.end();
  return r.rows.map((row) => row.datname);
}

describe("dry_run_migration on the real PostgreSQL server", () => {
  let app: App;

  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(124, {
        1: [
          "create_rules",
          "CREATE TABLE rules (id bigint PRIMARY KEY, title text, is_mandatory boolean, is_blocking boolean);\n",
        ],
        91: ["drop_rule_flags", "ALTER TABLE rules DROP COLUMN is_mandatory,\n  DROP COLUMN is_blocking;\n"],
      }),
      appliedUpTo: 124,
      prodExtraSql: "CREATE TABLE hotfix_audit (id bigint PRIMARY KEY); -- made by hand during an incident",
    });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("catches the second outage: 125 uses columns 091 dropped; names line and statement and explains", async () => {
    const c = await app.session("mai/ann/flags");
    const path = await writeMigration(
      c,
      "use_rule_flags",
      "-- mark the defaults\nUPDATE rules\n   SET title = 'x'\n WHERE is_mandatory;\n",
    );
    expect(path).toBe(`${MIG_DIR}/125_use_rule_flags.sql`);
    const result = await c.call("dry_run_migration", {});
    const r = structured<Report>(result);
    expect(r.passed).toBe(false);
    expect(r.baseline.kind).toBe("prod");
    const file = r.files[0]!;
    expect(file).toMatchObject({ path, status: "failed" });
    expect(file.failure).toMatchObject({
      line: 4,
      sqlstate: "42703",
      message: 'column "is_mandatory" does not exist',
    });
    expect(file.failure!.statement).toContain("UPDATE rules");
    expect(file.failure!.explanation).toContain("091_drop_rule_flags.sql");
    expect(file.failure!.explanation).toContain("dropped it");
    expect(textOf(result)).toContain("Statement (untrusted text):");
    expect(await scratchDatabases("maigate_run_")).toEqual([]);
  });

  it("passes a good migration, reports its locks and lint, and records the result by content", async () => {
    const c = await app.session("mai/bob/good");
    const path = await writeMigration(c, "add_rule_owner", "ALTER TABLE rules ADD COLUMN owner text;\n");
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(true);
    expect(r.mode).toBe("warm");
    const file = r.files[0]!;
    expect(file.status).toBe("applied");
    expect(file.locks?.AccessExclusiveLock).toContain("public.rules");
    expect(file.slots.every((s) => s.passed)).toBe(true);
    expect("findings" in file.lint).toBe(true);
    const store = await c.workspace.store(null);
    const records = await store.dryRuns({ runId: r.run_id, limit: 5 });
    expect(records.map((x) => [x.file, x.outcome, x.baselineId])).toEqual([[path, "passed", r.baseline.id]]);
    // The warm clone was rolled back: the column is not there for the next run.
    const again = structured<Report>(await c.call("dry_run_migration", {}));
    expect(again.passed).toBe(true);
    expect(again.template?.built_from).toBe("cached");
  });

  it("runs CREATE INDEX CONCURRENTLY outside a transaction on a disposable clone, and drops the clone", async () => {
    const c = await app.session("mai/cid/index");
    await writeMigration(
      c,
      "index_rules_title",
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS rules_title ON rules (title);\n",
    );
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(true);
    expect(r.mode).toBe("disposable");
    expect(r.files[0]).toMatchObject({ status: "applied", ran: "autocommit", locks: null });
    expect(await scratchDatabases("maigate_run_")).toEqual([]);
  });

  it("a file with its own BEGIN/COMMIT runs as one unit, as the app would run it", async () => {
    const c = await app.session("mai/dan/tx");
    await writeMigration(
      c,
      "own_transaction",
      "BEGIN;\nCREATE TABLE rule_tags (id bigint PRIMARY KEY);\nALTER TABLE rule_tags ADD COLUMN tag text;\nCOMMIT;\n",
    );
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(true);
    expect(r.files[0]!.notes.join(" ")).toContain("own BEGIN/COMMIT");
  });

  it("fails against prod (a hand-made hotfix table) and passes against replay, saying which baseline", async () => {
    const c = await app.session("mai/eve/hotfix");
    await writeMigration(c, "create_hotfix_audit", "CREATE TABLE hotfix_audit (id bigint PRIMARY KEY);\n");
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(false);
    expect(r.baseline.description).toContain("pg_dump of production");
    expect(r.files[0]!.failure).toMatchObject({ sqlstate: "42P07" });

    const replay = await createApp({
      migrations: mainMigrations(124, {
        1: [
          "create_rules",
          "CREATE TABLE rules (id bigint PRIMARY KEY, title text, is_mandatory boolean, is_blocking boolean);\n",
        ],
        91: ["drop_rule_flags", "ALTER TABLE rules DROP COLUMN is_mandatory, DROP COLUMN is_blocking;\n"],
      }),
      prodExtraSql: "CREATE TABLE hotfix_audit (id bigint PRIMARY KEY);",
      config: { scratch: { dsn: "env:SCRATCH_DSN", baseline: "replay" } },
    });
    try {
      const rc = await replay.session("mai/eve/hotfix");
      await writeMigration(rc, "create_hotfix_audit", "CREATE TABLE hotfix_audit (id bigint PRIMARY KEY);\n");
      const rr = structured<Report>(await rc.call("dry_run_migration", {}));
      expect(rr.baseline.kind).toBe("replay");
      expect(rr.baseline.description).toContain("replay of main's 124 migration(s)");
      expect(rr.passed).toBe(true);
    } finally {
      await replay.cleanup();
    }
  });

  it("builds the next template from the previous one when main gains a migration", async () => {
    const c = await app.session("mai/fay/incremental");
    await writeMigration(c, "first_try", "ALTER TABLE rules ADD COLUMN a int;\n");
    const first = structured<Report>(await c.call("dry_run_migration", {}));
    await app.sandbox.commitToMain(
      { [`${MIG_DIR}/200_main_moves.sql`]: "CREATE TABLE moved (id int);\n" },
      "main moves",
    );
    const second = structured<Report>(await c.call("dry_run_migration", {}));
    expect(second.baseline.pending).toContain(`${MIG_DIR}/200_main_moves.sql`);
    expect(second.template?.key).not.toBe(first.template?.key);
    expect(second.template?.built_from).toBe(first.baseline.pending.length);
  });

  it("three workers dry-running at once do not interfere", async () => {
    const sessions = await Promise.all(["mai/g1/x", "mai/g2/x", "mai/g3/x"].map((b) => app.session(b)));
    for (const [i, c] of sessions.entries()) {
      await writeMigration(
        c,
        `parallel_${i}`,
        `ALTER TABLE rules ADD COLUMN p${i} int;\nALTER TABLE rules DROP COLUMN p${i};\n`,
      );
    }
    const results = await Promise.all(sessions.map((c) => c.call("dry_run_migration", {})));
    for (const r of results) expect(structured<Report>(r).passed).toBe(true);
  });

  it("flags a migration file without a lease, and a psql meta-command, without running anything", async () => {
    const c = await app.session("mai/hal/nolease");
    const root = (await c.workspace.repo()).root;
    await writeFile(`${root}/${MIG_DIR}/300_no_lease.sql`, "SELECT 1;\n");
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(false);
    expect(r.files[0]!.slots.find((s) => s.check === "leased")?.message).toContain(
      "no lease holds version 300",
    );

    await writeFile(`${root}/${MIG_DIR}/300_no_lease.sql`, "SELECT 1;\n\\i other.sql\n");
    const meta = structured<Report>(await c.call("dry_run_migration", {}));
    expect(meta.files[0]!.failure).toMatchObject({ line: 2 });
    expect(meta.files[0]!.failure!.message).toContain("psql meta-command");
    expect(meta.mode).toBe("none");
  });
});
