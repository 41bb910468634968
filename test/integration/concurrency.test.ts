import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { spawnServer } from "../helpers/stdio.js";

const DIR = "db/migrations";
type Spawned = Awaited<ReturnType<typeof spawnServer>>;

interface LeaseRecord {
  id: string;
  version: number;
  worker: string;
  request_name: string;
}

function readLeases(path: string): LeaseRecord[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare("SELECT id, version, worker, request_name FROM leases WHERE ended_at IS NULL")
      .all() as LeaseRecord[];
  } finally {
    db.close();
  }
}

async function reserveMany(server: Spawned, worker: string, n: number) {
  const got: { name: string; version: number; leaseId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const name = `m_${worker}_${i}`;
    const r = await server.call("reserve_migration_slot", { name });
    if (r.isError) throw new Error(JSON.stringify(r.content));
    const lease = (r.structuredContent as { leases: { version: number; lease_id: string }[] }).leases[0]!;
    got.push({ name, version: lease.version, leaseId: lease.lease_id });
  }
  return got;
}

describe("many real processes on one state file", () => {
  let sandbox: GitSandbox;
  let stateDb: string;

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR } },
      files: numberedMigrations(DIR, 50),
    });
    stateDb = `${sandbox.host}/.git/mai-gate/state.db`;
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("16 processes × 50 reservations: no duplicate version, no lost lease", async () => {
    const cwd = await sandbox.worktree("load/base");
    const servers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => spawnServer(cwd, { MAI_WORKER: `p${i}` })),
    );
    try {
      const answers = (await Promise.all(servers.map((s, i) => reserveMany(s, `p${i}`, 50)))).flat();
      expect(answers).toHaveLength(800);
      const versions = answers.map((a) => a.version);
      expect(new Set(versions).size).toBe(800);
      expect(Math.min(...versions)).toBe(51);
      expect(Math.max(...versions)).toBe(850);

      const stored = readLeases(stateDb);
      expect(stored).toHaveLength(800);
      const byId = new Map(stored.map((l) => [l.id, l]));
      for (const a of answers) expect(byId.get(a.leaseId)?.version).toBe(a.version);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  }, 240_000);

  it("a process killed with SIGKILL mid-run leaves the file consistent and usable", async () => {
    const cwd = await sandbox.worktree("kill/base");
    const before = readLeases(stateDb).length;
    const servers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => spawnServer(cwd, { MAI_WORKER: `k${i}` })),
    );
    const victim = servers[0]!;
    const runs = servers.map((s, i) => reserveMany(s, `k${i}`, 40).catch((err: unknown) => err));
    await new Promise((r) => setTimeout(r, 400));
    process.kill(victim.pid!, "SIGKILL");
    const results = await Promise.all(runs);
    expect(results[0]).toBeInstanceOf(Error);
    const survivors = results.slice(1).flat() as { version: number; leaseId: string }[];
    expect(survivors).toHaveLength(5 * 40);

    const db = new Database(stateDb, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    const stored = readLeases(stateDb);
    expect(new Set(stored.map((l) => l.version)).size).toBe(stored.length);
    const ids = new Set(stored.map((l) => l.id));
    for (const s of survivors) expect(ids.has(s.leaseId)).toBe(true);
    const victimLeases = stored.filter((l) => l.worker === "k0").length;
    expect(stored.length).toBe(before + 5 * 40 + victimLeases);

    const after = await spawnServer(cwd, { MAI_WORKER: "k0" });
    try {
      const r = await after.call("reserve_migration_slot", { name: "after_kill" });
      expect(r.isError).toBeFalsy();
      const version = (r.structuredContent as { leases: { version: number }[] }).leases[0]!.version;
      expect(version).toBe(Math.max(...stored.map((l) => l.version)) + 1);
    } finally {
      await Promise.all([...servers.slice(1), after].map((s) => s.close()));
    }
  });
});

describe("a fresh state file opened by many processes at once", () => {
  it("every process opens it and reserves; none sees 'database is locked'", async () => {
    const sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR } },
      files: numberedMigrations(DIR, 3),
    });
    try {
      const cwd = await sandbox.worktree("fresh/base");
      const servers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => spawnServer(cwd, { MAI_WORKER: `f${i}` })),
      );
      try {
        const results = await Promise.all(
          servers.map((s, i) => s.call("reserve_migration_slot", { name: `first_${i}` })),
        );
        for (const r of results) expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        const versions = results.map(
          (r) => (r.structuredContent as { leases: { version: number }[] }).leases[0]!.version,
        );
        expect(versions.sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    } finally {
      await sandbox.cleanup();
    }
  });
});
