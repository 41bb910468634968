import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { structured } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

/**
 * `mai-gate check` (the built CLI, `--format json`) on real migration directories: the catalog
 * truths decide what is red. Each case has its own repository and production database.
 */
interface Finding {
  check: string;
  severity: string;
  file: string | null;
  message: string;
}
interface CheckJson {
  passed: boolean;
  runs: { check: string; status: string; files: string[] }[];
  findings: Finding[];
}

/** golang-migrate's history: one row with the current version. */
const golangHistory = (version: number) => `
  CREATE TABLE public.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
  INSERT INTO public.schema_migrations VALUES (${version}, false);`;
const golangConfig = {
  migrations: {
    dir: MIG_DIR,
    layout: "golang-migrate",
    history_table: "public.schema_migrations",
    history_format: "golang-migrate",
  },
};

/** A golang-migrate directory whose up and down files of one version have different names. */
const PAIRED: Record<string, string> = {
  [`${MIG_DIR}/0001_create_items.up.sql`]: "CREATE TABLE items (id bigint PRIMARY KEY);\n",
  [`${MIG_DIR}/0001_drop_items.down.sql`]: "DROP TABLE items;\n",
  [`${MIG_DIR}/0030_add_x.up.sql`]: "ALTER TABLE items ADD COLUMN x int;\n",
  [`${MIG_DIR}/0030_drop_x.down.sql`]: "ALTER TABLE items DROP COLUMN x;\n",
};
const PAIRED_PROD = `CREATE TABLE items (id bigint PRIMARY KEY, x int);${golangHistory(30)}`;

describe("mai-gate check and the catalog truths", () => {
  const apps: App[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.cleanup()));
  });
  const app = async (options: Parameters<typeof createApp>[0]) => {
    const a = await createApp(options);
    apps.push(a);
    return a;
  };

  /** Commits `files` on a new branch from main (pushed when asked) and runs check in its worktree. */
  const check = async (
    a: App,
    branch: string,
    files: Record<string, string>,
    options: { dryRun?: boolean; push?: boolean } = {},
  ) => {
    const cwd = await a.sandbox.worktree(branch);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(cwd, path)), { recursive: true });
      await writeFile(join(cwd, path), text);
    }
    await a.sandbox.git(cwd, "add", "-A");
    await a.sandbox.git(cwd, "commit", "-qm", `work on ${branch}`, "--allow-empty");
    if (options.push) await a.sandbox.git(cwd, "push", "-q", "origin", "HEAD");
    const args = ["check", "--format", "json", ...(options.dryRun ? [] : ["--no-dry-run"])];
    const r = await execa(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...a.env, MAI_GATE_LOG: "error" },
      reject: false,
    });
    expect(r.stderr).toBe("");
    const json = JSON.parse(r.stdout) as CheckJson;
    const errors = json.findings.filter((f) => f.severity === "error");
    return { exitCode: r.exitCode, json, errors };
  };

  it("golang-migrate: up and down files of one version pair whatever their names → exit 0", async () => {
    const a = await app({
      migrations: PAIRED,
      appliedUpTo: 0,
      prodExtraSql: PAIRED_PROD,
      config: golangConfig,
    });
    const branchPair = {
      [`${MIG_DIR}/0031_add_y.up.sql`]: "ALTER TABLE items ADD COLUMN y int;\n",
      [`${MIG_DIR}/0031_remove_y.down.sql`]: "ALTER TABLE items DROP COLUMN y;\n",
    };
    const r = await check(a, "ci/paired", branchPair);
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.json.passed).toBe(true);
    expect(r.json.runs.find((x) => x.check === "catalog")).toMatchObject({ status: "passed" });
  });

  it("golang-migrate pairs, with the dry run: the branch's new pair applies on the clone → exit 0", async () => {
    const a = await app({
      migrations: PAIRED,
      appliedUpTo: 0,
      prodExtraSql: PAIRED_PROD,
      config: golangConfig,
    });
    const r = await check(
      a,
      "ci/paired-dry-run",
      {
        [`${MIG_DIR}/0031_add_y.up.sql`]: "ALTER TABLE items ADD COLUMN y int;\n",
        [`${MIG_DIR}/0031_remove_y.down.sql`]: "ALTER TABLE items DROP COLUMN y;\n",
      },
      { dryRun: true },
    );
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.json.runs.find((x) => x.check === "dry_run")).toMatchObject({
      status: "passed",
      files: [`${MIG_DIR}/0031_add_y.up.sql`],
    });
  });

  it("golang-migrate: two up files of one version on main are a duplicate → exit 1, a catalog finding", async () => {
    const a = await app({
      migrations: { ...PAIRED, [`${MIG_DIR}/0030_add_z.up.sql`]: "ALTER TABLE items ADD COLUMN z int;\n" },
      appliedUpTo: 0,
      prodExtraSql: PAIRED_PROD,
      config: golangConfig,
    });
    const r = await check(a, "ci/two-ups", {});
    expect(r.exitCode).toBe(1);
    expect(r.json.passed).toBe(false);
    expect(r.errors).toEqual([
      expect.objectContaining({
        check: "catalog",
        file: `${MIG_DIR}/0030_add_z.up.sql`,
        message: "version 30 is used by 0030_add_x.up.sql and 0030_add_z.up.sql",
      }),
    ]);
  });

  it("numbered: 057.sql on main → exit 1, a catalog finding that names it and the number it holds", async () => {
    const a = await app({
      migrations: { ...mainMigrations(5), [`${MIG_DIR}/057.sql`]: "SELECT 1;\n" },
      appliedUpTo: 5,
    });
    const r = await check(a, "ci/unreadable-on-main", {});
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.objectContaining({ check: "catalog", file: `${MIG_DIR}/057.sql` })]);
    expect(r.errors[0]!.message).toMatch(/^057\.sql: .*; its number 57 still counts as taken$/);
  });

  describe("duplicates: allow (a migrator that compares whole file names)", () => {
    const allowing = () =>
      app({
        migrations: { ...mainMigrations(5), [`${MIG_DIR}/005_again.sql`]: "CREATE TABLE again (id int);\n" },
        appliedUpTo: 4,
        // Production applied both files of version 5: its history is keyed by the whole name.
        prodExtraSql: `
          ALTER TABLE paliad.applied_migrations DROP CONSTRAINT applied_migrations_pkey;
          CREATE TABLE t5 (id bigint PRIMARY KEY, note text);
          CREATE TABLE again (id int);
          INSERT INTO paliad.applied_migrations VALUES (5, 'create_t5'), (5, 'again');`,
        config: {
          migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", duplicates: "allow" },
        },
      });

    it("main's duplicate, applied by production under both names, is acceptable → exit 0", async () => {
      const a = await allowing();
      const r = await check(a, "ci/allowed", {});
      expect(r.errors).toEqual([]);
      expect(r.exitCode).toBe(0);
      expect(r.json.runs.find((x) => x.check === "history")).toMatchObject({ status: "passed" });
    });

    it("a new duplicate on a branch is still red → exit 1, collision with main", async () => {
      const a = await allowing();
      const r = await check(a, "ci/new-duplicate", { [`${MIG_DIR}/005_third.sql`]: "SELECT 1;\n" });
      expect(r.exitCode).toBe(1);
      const mine = r.errors.filter((f) => f.file === `${MIG_DIR}/005_third.sql`);
      expect(mine.map((f) => f.check)).toContain("collision");
      expect(mine.find((f) => f.message.startsWith("[main] "))?.message).toContain(
        "new duplicate: main already has version 5 as 005_again.sql; a database already at 5 skips a file that sorts lower",
      );
    });
  });

  it("a branch file beyond 2^53-1 → exit 1 naming the file; another worker still reserves a normal version", async () => {
    const a = await app({ migrations: mainMigrations(5), appliedUpTo: 5 });
    const huge = `${MIG_DIR}/99999999999999999999_x.sql`;
    const r = await check(a, "mai/ann/huge", { [huge]: "SELECT 1;\n" }, { push: true });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.objectContaining({
        check: "unparseable",
        file: huge,
        message: expect.stringContaining("version 99999999999999999999 is beyond 2^53-1"),
      }),
    ]);
    // The branch is on origin, where every other worker's reservation reads it.
    await a.sandbox.git(a.sandbox.origin, "rev-parse", "--verify", "refs/heads/mai/ann/huge");
    const bob = await a.session("mai/bob/after-huge");
    const reserved = structured<{ leases: { version: number }[]; taken: { max: number } }>(
      await bob.call("reserve_migration_slot", { name: "add_x" }),
    );
    expect(reserved.leases.map((l) => l.version)).toEqual([6]);
    expect(reserved.taken.max).toBe(5);
  });
});
