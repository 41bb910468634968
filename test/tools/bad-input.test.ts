import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, textOf } from "../helpers/mcp.js";

const DIR = "db/migrations";

describe("bad input gets a clear isError answer and changes nothing", () => {
  let sandbox: GitSandbox;
  let session: Connected;
  const extra: Connected[] = [];

  const snapshot = async (c: Connected) => {
    const store = await c.workspace.store(null);
    const leases = await store.listLeases({ includeEnded: true, limit: 10_000 });
    const events = await store.events({ limit: 10_000 });
    return { leases: leases.length, events: events.length };
  };

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      files: numberedMigrations(DIR, 10),
    });
    session = await connect({ cwd: await sandbox.worktree("mai/pat/bad"), env: {} });
    await session.call("reserve_migration_slot", { name: "baseline" });
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await session.close();
    await sandbox.cleanup();
  });

  it.each([
    [{ name: "" }, "name is empty"],
    [{ name: "add user email" }, "not a valid migration name"],
    [{ name: "db/migrations/x" }, "contains a path separator"],
    [{ name: ".." }, "contains a path separator"],
    [{ name: "x".repeat(300) }, "300 characters"],
    [{ name: "ok", count: 0 }, "out of range"],
    [{ name: "ok", count: 10_000 }, "out of range"],
    [{ name: "ok", count: 2.5 }, "expected int"],
    [{}, "name"],
  ])("reserve_migration_slot %j", async (args, message) => {
    const before = await snapshot(session);
    const result = await session.call("reserve_migration_slot", args);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(message);
    expect(await snapshot(session)).toEqual(before);
  });

  it("names the fix when a name is unusable", async () => {
    const result = await session.call("reserve_migration_slot", { name: "Add User Email" });
    expect(textOf(result)).toContain(
      'Next step: Use letters, digits and single underscores, e.g. "add_user_email"',
    );
  });

  it("release_slot without a reason, or with both id and version, or an unknown lease", async () => {
    const before = await snapshot(session);
    for (const [args, message] of [
      [{ version: 11, reason: " " }, "reason is empty"],
      [{ lease_id: "Lnope", version: 11, reason: "x" }, "exactly one of lease_id or version"],
      [{ lease_id: "Lnope", reason: "x" }, "no lease Lnope"],
    ] as const) {
      const r = await session.call("release_slot", args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(message);
    }
    expect(await snapshot(session)).toEqual(before);
  });

  it("a missing migrations directory", async () => {
    const other = await createGitSandbox({
      config: { migrations: { dir: "nowhere/migrations" } },
      files: { "README.md": "x" },
    });
    try {
      const c = await connect({ cwd: await other.worktree("mai/quin/x"), env: {} });
      extra.push(c);
      const r = await c.call("reserve_migration_slot", { name: "x" });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('migrations.dir "nowhere/migrations" does not exist on origin/main');
      const store = await c.workspace.store(null);
      expect(await store.listLeases({ includeEnded: true, limit: 10 })).toEqual([]);
    } finally {
      await other.cleanup();
    }
  });

  it("no git repository", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mai-gate-nogit-"));
    try {
      const c = await connect({ cwd: dir, env: { GIT_CEILING_DIRECTORIES: tmpdir() } });
      extra.push(c);
      for (const [tool, args] of [
        ["reserve_migration_slot", { name: "x" }],
        ["list_slot_leases", {}],
      ] as const) {
        const r = await c.call(tool, args);
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain("is not inside a git repository");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a broken mai-gate.yaml on main names the problem, and the server keeps serving", async () => {
    const broken = await createGitSandbox({
      config: "migrations:\n  dir: db/migrations\n  layout: sequential\n",
      files: numberedMigrations(DIR, 3),
    });
    try {
      const c = await connect({ cwd: await broken.worktree("mai/ray/x"), env: {} });
      extra.push(c);
      const r = await c.call("reserve_migration_slot", { name: "x" });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("mai-gate.yaml: migrations.layout:");
      expect(textOf(r)).toContain("on origin/main");
      await broken.commitToMain({ "mai-gate.yaml": "migrations: { dir: db/migrations }\n" }, "fix config");
      await broken.fetchHost();
      const fixed = await c.call("reserve_migration_slot", { name: "x" });
      expect(fixed.isError).toBeFalsy();
    } finally {
      await broken.cleanup();
    }
  });

  it("a worker that cannot be identified, and a role that does not exist", async () => {
    const noWorker = await connect({ cwd: await sandbox.worktree("feature/no-worker"), env: {} });
    extra.push(noWorker);
    const r = await noWorker.call("reserve_migration_slot", { name: "x" });
    expect(textOf(r)).toContain("cannot tell which worker is calling");
    const badRole = await connect({ cwd: sandbox.host, env: { MAI_ROLE: "admin" } });
    extra.push(badRole);
    expect(textOf(await badRole.call("list_slot_leases", {}))).toContain('MAI_ROLE="admin" is not a role');
  });

  it("the server stays up after every error", async () => {
    const r = await session.call("list_slot_leases", {});
    expect(r.isError).toBeFalsy();
  });
});
