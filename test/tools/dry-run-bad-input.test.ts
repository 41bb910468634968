import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { execa } from "execa";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";
import { SCRATCH_ADMIN } from "../helpers/pg.js";

async function runDatabases(): Promise<string[]> {
  const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
  await admin.connect();
  const r = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'maigate\\_run\\_%' OR datname LIKE 'maigate\\_build\\_%'",
  );
  await admin.end();
  return r.rows.map((x) => x.datname);
}

/**
 * Run and build databases still there after a while. Other test files share the scratch server and
 * hold such databases for the second their statement runs; a leak of this file's calls stays.
 */
async function leftovers(): Promise<string[]> {
  let found = await runDatabases();
  for (let i = 0; i < 40 && found.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = new Set(await runDatabases());
    found = found.filter((name) => now.has(name));
  }
  return found;
}

describe("dry_run_migration refuses bad input clearly and leaves nothing behind", () => {
  let app: App;
  let c: Connected;
  let root: string;
  const extra: Connected[] = [];

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    c = await app.session("mai/ivy/bad");
    root = (await c.workspace.repo()).root;
    await mkdir(`${root}/${MIG_DIR}`, { recursive: true });
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((x) => x.close()));
    expect(await leftovers()).toEqual([]);
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it.each([
    [["../outside.sql"], "is outside this worktree"],
    [["/etc/passwd"], "is outside this worktree"],
    [[`${MIG_DIR}/missing.sql`], "does not exist in this worktree"],
    [[MIG_DIR], "is not a regular file"],
  ])("files %j", async (files, message) => {
    const r = await c.call("dry_run_migration", { files });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(message);
  });

  it("a FIFO and a symlink out of the worktree are refused without reading them", async () => {
    await execa("mkfifo", [`${root}/${MIG_DIR}/009_fifo.sql`]);
    await symlink("/etc/passwd", `${root}/${MIG_DIR}/010_link.sql`);
    const fifo = await c.call("dry_run_migration", { files: [`${MIG_DIR}/009_fifo.sql`] });
    expect(textOf(fifo)).toContain("is not a regular file");
    const link = await c.call("dry_run_migration", { files: [`${MIG_DIR}/010_link.sql`] });
    expect(textOf(link)).toContain("is outside this worktree");
    expect(textOf(link)).not.toContain("root:");
    await rm(`${root}/${MIG_DIR}/009_fifo.sql`);
    await rm(`${root}/${MIG_DIR}/010_link.sql`);
  });

  it("a binary file", async () => {
    await writeFile(`${root}/${MIG_DIR}/006_binary.sql`, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]));
    const r = await c.call("dry_run_migration", { files: [`${MIG_DIR}/006_binary.sql`] });
    expect(textOf(r)).toContain("is a binary file, not SQL");
  });

  it("a 20 MB file", async () => {
    await writeFile(`${root}/${MIG_DIR}/007_huge.sql`, `-- ${"x".repeat(20 * 1024 * 1024)}\nSELECT 1;\n`);
    const r = await c.call("dry_run_migration", { files: [`${MIG_DIR}/007_huge.sql`] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("20.0 MB; a migration may be at most 5 MB");
  });

  it("SQL with a syntax error is reported with its line, and nothing runs", async () => {
    await writeFile(
      `${root}/${MIG_DIR}/008_typo.sql`,
      "CREATE TABLE ok (id int);\nALTER TABLE ok ADD COLUMN;\n",
    );
    const r = structured<{
      passed: boolean;
      mode: string;
      files: { failure: { line: number; message: string } }[];
    }>(await c.call("dry_run_migration", { files: [`${MIG_DIR}/008_typo.sql`] }));
    expect(r.passed).toBe(false);
    expect(r.mode).toBe("none");
    expect(r.files[0]!.failure).toMatchObject({ line: 2 });
    expect(r.files[0]!.failure.message).toContain("syntax error");
  });

  it("an unreachable scratch server", async () => {
    const s = await connect({
      cwd: (await c.workspace.repo()).root,
      env: { ...app.env, SCRATCH_DSN: "postgres://postgres@127.0.0.1:1/postgres" },
    });
    extra.push(s);
    await writeFile(`${root}/${MIG_DIR}/009_ok.sql`, "SELECT 1;\n");
    const r = await s.call("dry_run_migration", { files: [`${MIG_DIR}/009_ok.sql`] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/\[scratch\].*127\.0\.0\.1:1/);
  });

  it("a scratch DSN that is production's database", async () => {
    const s = await connect({ cwd: root, env: { ...app.env, SCRATCH_DSN: app.prod.dsn } });
    extra.push(s);
    const r = await s.call("dry_run_migration", { files: [`${MIG_DIR}/009_ok.sql`] });
    expect(textOf(r)).toContain("scratch.dsn is production's database");
  });
});

describe("pg_dump missing or older than production", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("a missing pg_dump is a clear error naming the fix", async () => {
    await app.sandbox.commitToMain({
      "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }\nprod: { dsn: env:PROD_RO_DSN }\nscratch: { dsn: env:SCRATCH_DSN, pg_dump: /nonexistent/pg_dump }\n`,
    });
    const c = await app.session("mai/jo/nodump");
    const root = (await c.workspace.repo()).root;
    await writeFile(`${root}/${MIG_DIR}/004_x.sql`, "SELECT 1;\n");
    const r = await c.call("dry_run_migration", { files: [`${MIG_DIR}/004_x.sql`] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("pg_dump is not usable (/nonexistent/pg_dump)");
    expect(textOf(r)).toContain("postgresql-client");
  });

  it("a pg_dump older than the server is refused before it runs", async () => {
    const fake = `${app.sandbox.dir}/old_pg_dump`;
    await writeFile(fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", { mode: 0o755 });
    await app.sandbox.commitToMain({
      "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }\nprod: { dsn: env:PROD_RO_DSN }\nscratch: { dsn: env:SCRATCH_DSN, pg_dump: ${fake} }\n`,
    });
    const c = await app.session("mai/jo/olddump");
    const root = (await c.workspace.repo()).root;
    await writeFile(`${root}/${MIG_DIR}/004_x.sql`, "SELECT 1;\n");
    const r = await c.call("dry_run_migration", { files: [`${MIG_DIR}/004_x.sql`] });
    expect(textOf(r)).toMatch(/pg_dump 9 is older than production's PostgreSQL 1\d/);
  });
});
