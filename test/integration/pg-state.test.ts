import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { startCluster, type TestCluster } from "../helpers/cluster.js";
import { spawnServer } from "../helpers/stdio.js";

const DIR = "db/migrations";
type Spawned = Awaited<ReturnType<typeof spawnServer>>;

async function reserveMany(server: Spawned, worker: string, n: number) {
  const got: { version: number; leaseId: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = await server.call("reserve_migration_slot", { name: `m_${worker}_${i}` });
    if (r.isError) throw new Error(JSON.stringify(r.content));
    const lease = (r.structuredContent as { leases: { version: number; lease_id: string }[] }).leases[0]!;
    got.push({ version: lease.version, leaseId: lease.lease_id });
  }
  return got;
}

/**
 * Three hosts, simulated as three clones of one origin, each with its own worktree and its own
 * group of 16 server processes; one PostgreSQL state store between them, on a server of this
 * file's own: 48 processes' pools need more connections than a shared server's default 100 leaves
 * the other test files running beside this one.
 */
describe("workers on several hosts share a PostgreSQL state store", () => {
  let sandbox: GitSandbox;
  let dsn: string;
  let cluster: TestCluster;
  const dbName = `maigate_test_state_${randomBytes(4).toString("hex")}`;
  const hosts: string[] = [];

  const openLeases = async () => {
    const c = new pg.Client({ connectionString: dsn });
    await c.connect();
    const r = await c.query<{ id: string; version: string }>(
      "SELECT id, version FROM mai_gate.leases WHERE ended_at IS NULL",
    );
    await c.end();
    return r.rows.map((row) => ({ id: row.id, version: Number(row.version) }));
  };

  const runHosts = async (perHost: number, each: number, killOne: boolean) => {
    const groups = await Promise.all(
      hosts.map(async (cwd, h) =>
        Promise.all(
          Array.from({ length: perHost }, (_, i) =>
            spawnServer(cwd, { MAI_WORKER: `h${h}p${i}${killOne ? "k" : ""}`, MAI_GATE_STATE: dsn }),
          ),
        ),
      ),
    );
    const servers = groups.flat();
    const victim = killOne ? servers[5]! : null;
    const runs = servers.map((s) =>
      reserveMany(s, s === victim ? "victim" : `x${servers.indexOf(s)}`, each).catch((err: unknown) => err),
    );
    if (victim) {
      await new Promise((r) => setTimeout(r, 1500));
      process.kill(victim.pid!, "SIGKILL");
    }
    const results = await Promise.all(runs);
    await Promise.all(servers.map((s) => s.close()));
    return results;
  };

  beforeAll(async () => {
    cluster = await startCluster(["max_connections=300"]);
    const admin = new pg.Client({ connectionString: cluster.adminDsn });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(cluster.adminDsn);
    url.pathname = `/${dbName}`;
    dsn = url.toString();
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR } },
      files: numberedMigrations(DIR, 20),
    });
    for (let h = 0; h < 3; h++) {
      const clone = join(sandbox.dir, `host${h}`);
      await sandbox.git(sandbox.dir, "clone", "--quiet", sandbox.origin, clone);
      const worktree = join(sandbox.dir, `host${h}-worktree`);
      await sandbox.git(clone, "worktree", "add", "--quiet", "-b", `host${h}/work`, worktree, "origin/main");
      hosts.push(worktree);
    }
  });
  afterAll(async () => {
    await sandbox?.cleanup();
    await cluster?.stop();
  });

  it("48 processes × 20 reservations on 3 hosts: no duplicate, no lost lease", async () => {
    const results = await runHosts(16, 20, false);
    const answers = results.flat() as { version: number; leaseId: string }[];
    expect(answers).toHaveLength(960);
    expect(new Set(answers.map((a) => a.version)).size).toBe(960);
    const stored = await openLeases();
    expect(stored).toHaveLength(960);
    const byId = new Map(stored.map((l) => [l.id, l.version]));
    for (const a of answers) expect(byId.get(a.leaseId)).toBe(a.version);
  }, 240_000);

  it("the same with one process killed by SIGKILL in the middle", async () => {
    const before = (await openLeases()).length;
    const results = await runHosts(16, 20, true);
    const killed = results.filter((r) => r instanceof Error);
    expect(killed).toHaveLength(1);
    const answers = results
      .filter((r): r is { version: number; leaseId: string }[] => Array.isArray(r))
      .flat();
    expect(answers).toHaveLength(47 * 20);
    const stored = await openLeases();
    expect(new Set(stored.map((l) => l.version)).size).toBe(stored.length);
    const ids = new Set(stored.map((l) => l.id));
    for (const a of answers) expect(ids.has(a.leaseId)).toBe(true);
    expect(stored.length - before).toBeGreaterThanOrEqual(47 * 20);
    expect(stored.length - before).toBeLessThanOrEqual(48 * 20);
  }, 240_000);
});
