import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";
import { createProdDatabase } from "../helpers/pg.js";

const DIR = "internal/db/migrations";
const config = (extra: Record<string, unknown> = {}) => ({
  main_branch: "origin/main",
  migrations: { dir: DIR, layout: "numbered", history_table: "paliad.applied_migrations" },
  git: { fetch_interval_seconds: 0 },
  ...extra,
});

interface Reserved {
  idempotent: boolean;
  leases: { lease_id: string; version: number; files: string[]; paths: string[] }[];
  taken: { max: number; main: number | null; production: number | null; branches: number | null };
  production: { status: string };
  warnings: string[];
}

describe("reserve_migration_slot through MCP", () => {
  let sandbox: GitSandbox;
  const open: Connected[] = [];
  const worker = async (branch: string, env: Record<string, string> = {}) => {
    const cwd = await sandbox.worktree(branch);
    const c = await connect({ cwd, env: { ...env } });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    sandbox = await createGitSandbox({ config: config(), files: numberedMigrations(DIR, 120) });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("answers the next version above main, the exact file to create, and the same lease on a second call", async () => {
    const ann = await worker("mai/ann/first");
    const first = structured<Reserved>(await ann.call("reserve_migration_slot", { name: "add_user_email" }));
    expect(first.leases).toHaveLength(1);
    const lease = first.leases[0]!;
    expect(lease.files).toEqual([`${DIR}/${String(lease.version).padStart(3, "0")}_add_user_email.sql`]);
    expect(lease.version).toBeGreaterThan(120);
    expect(lease.paths[0]).toMatch(/worktrees\/mai__ann__first\/internal\/db\/migrations\//);
    const again = structured<Reserved>(await ann.call("reserve_migration_slot", { name: "add_user_email" }));
    expect(again.idempotent).toBe(true);
    expect(again.leases[0]!.lease_id).toBe(lease.lease_id);
    expect(again.leases[0]!.version).toBe(lease.version);
  });

  it("gives two workers in two worktrees reserving at the same moment different versions", async () => {
    const [bob, cid] = await Promise.all([worker("mai/bob/a"), worker("mai/cid/b")]);
    const [rb, rc] = await Promise.all([
      bob.call("reserve_migration_slot", { name: "same_idea" }),
      cid.call("reserve_migration_slot", { name: "same_idea" }),
    ]);
    const vb = structured<Reserved>(rb).leases[0]!.version;
    const vc = structured<Reserved>(rc).leases[0]!.version;
    expect(vb).not.toBe(vc);
    expect(Math.abs(vb - vc)).toBe(1);
  });

  it("never hands out a version a remote branch holds without a lease, and never fills a gap", async () => {
    await sandbox.pushBranch("mai/rogue/no-lease", { [`${DIR}/200_rogue.sql`]: "SELECT 1;\n" });
    const dan = await worker("mai/dan/c");
    const r = structured<Reserved>(await dan.call("reserve_migration_slot", { name: "after_rogue" }));
    expect(r.taken.branches).toBe(200);
    expect(r.leases[0]!.version).toBe(201);
  });

  it("reserves count consecutive versions with numbered names", async () => {
    const eve = await worker("mai/eve/d");
    const r = structured<Reserved>(await eve.call("reserve_migration_slot", { name: "split", count: 3 }));
    const versions = r.leases.map((l) => l.version);
    expect(versions).toEqual([versions[0], versions[0]! + 1, versions[0]! + 2]);
    expect(r.leases.map((l) => l.files[0]!.replace(/^.*\/\d+_/, ""))).toEqual([
      "split_1.sql",
      "split_2.sql",
      "split_3.sql",
    ]);
    const again = structured<Reserved>(await eve.call("reserve_migration_slot", { name: "split" }));
    expect(again.leases.map((l) => l.version)).toEqual(versions);
    const mismatch = await eve.call("reserve_migration_slot", { name: "split", count: 2 });
    expect(mismatch.isError).toBe(true);
    expect(textOf(mismatch)).toContain("already holds 3 version(s)");
  });

  it("says that production was not configured, without pretending it was checked", async () => {
    const fay = await worker("mai/fay/e");
    const r = structured<Reserved>(await fay.call("reserve_migration_slot", { name: "x" }));
    expect(r.production.status).toBe("not_configured");
  });

  it("writes an audit event for every reservation", async () => {
    const gus = await worker("mai/gus/f");
    const r = structured<Reserved>(await gus.call("reserve_migration_slot", { name: "audited" }));
    const store = await gus.workspace.store(null);
    const events = await store.events({ limit: 10, subject: r.leases[0]!.lease_id });
    expect(events.map((e) => [e.action, e.actor])).toEqual([["lease.reserve", "gus"]]);
  });

  it("keeps state at <git common dir>/mai-gate/state.db, shared by every worktree", async () => {
    const hal = await worker("mai/hal/g");
    await hal.call("reserve_migration_slot", { name: "where" });
    const store = openSqliteStore(`${sandbox.host}/.git/mai-gate/state.db`);
    const leases = await store.listLeases({ includeEnded: false, limit: 1000 });
    await store.close();
    expect(leases.map((l) => l.worker)).toEqual(expect.arrayContaining(["ann", "bob", "cid", "hal"]));
  });
});

describe("production's history decides too", () => {
  let sandbox: GitSandbox;
  let prod: Awaited<ReturnType<typeof createProdDatabase>>;
  const open: Connected[] = [];

  beforeAll(async () => {
    prod = await createProdDatabase(`
      CREATE SCHEMA paliad;
      CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL);
      INSERT INTO paliad.applied_migrations SELECT g, 'step_' || g FROM generate_series(1, 122) g;
      INSERT INTO paliad.applied_migrations VALUES (123, 'backups'), (130, 'hotfix_applied_by_hand');
    `);
    sandbox = await createGitSandbox({
      config: config({ prod: { dsn: "env:PROD_RO_DSN", connect_timeout_ms: 1500 } }),
      files: numberedMigrations(DIR, 122),
    });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await sandbox.cleanup();
    await prod.drop();
  });

  it("skips every version production has applied, read through a read-only role", async () => {
    const cwd = await sandbox.worktree("mai/ivy/prod");
    const c = await connect({ cwd, env: { PROD_RO_DSN: prod.dsnReadOnly } });
    open.push(c);
    const r = structured<Reserved>(await c.call("reserve_migration_slot", { name: "after_hotfix" }));
    expect(r.production.status).toBe("checked");
    expect(r.taken).toMatchObject({ main: 122, production: 130 });
    expect(r.leases[0]!.version).toBe(131);
  });

  it("proceeds when production is unreachable, says so plainly, and marks the lease for a re-check", async () => {
    const cwd = await sandbox.worktree("mai/jo/offline");
    const c = await connect({ cwd, env: { PROD_RO_DSN: "postgres://nobody@127.0.0.1:1/none" } });
    open.push(c);
    const result = await c.call("reserve_migration_slot", { name: "offline_change" });
    const r = structured<Reserved>(result);
    expect(r.production.status).toBe("unreachable");
    expect(r.warnings.join(" ")).toContain("Production was NOT checked");
    expect(textOf(result)).toContain("production not checked");
    const store = await c.workspace.store(null);
    const lease = (await store.listLeases({ includeEnded: false, limit: 10, worker: "jo" }))[0]!;
    expect(lease.prodChecked).toBe(false);
  });
});
