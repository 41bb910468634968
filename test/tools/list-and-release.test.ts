import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";
import { createProdDatabase } from "../helpers/pg.js";

const DIR = "db/migrations";
const CONFIG = {
  migrations: { dir: DIR, layout: "numbered", history_table: "paliad.applied_migrations" },
  prod: { dsn: "env:PROD_RO_DSN" },
  git: { fetch_interval_seconds: 0 },
  leases: { ttl_hours: 1 },
};

interface Listed {
  leases: {
    lease_id: string;
    version: number;
    name: string;
    worker: string;
    state: string;
    notes: string[];
    conflicts: { where: string; name: string; message: string }[];
  }[];
  collisions: { version: number; holders: { name: string; where: string }[]; message: string }[];
  unleased: { version: number; name: string; refs: string[]; leased_to: unknown }[];
  counts: Record<string, number>;
}

describe("list_slot_leases and release_slot", () => {
  let sandbox: GitSandbox;
  let prod: Awaited<ReturnType<typeof createProdDatabase>>;
  const open: Connected[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const session = async (branch: string, env: Record<string, string> = {}) => {
    const cwd = await sandbox.worktree(branch);
    const c = await connect({ cwd, clock, env: { PROD_RO_DSN: prod.dsnReadOnly, ...env } });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    prod = await createProdDatabase(`
      CREATE SCHEMA paliad;
      CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL);
      INSERT INTO paliad.applied_migrations SELECT g, 'step_' || g FROM generate_series(1, 120) g;
    `);
    sandbox = await createGitSandbox({ config: CONFIG, files: numberedMigrations(DIR, 120) });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await sandbox.cleanup();
    await prod.drop();
  });

  it("reproduces the first outage: production says 123 = backups, a branch has 123_other.sql", async () => {
    // The lease was taken while production could not be read, and the branch pushed its file.
    const kim = await session("mai/kim/other", { PROD_RO_DSN: "postgres://x@127.0.0.1:1/none" });
    await kim.call("reserve_migration_slot", { name: "step_121" });
    await kim.call("reserve_migration_slot", { name: "step_122" });
    const lease = structured<{ leases: { version: number; lease_id: string }[] }>(
      await kim.call("reserve_migration_slot", { name: "other" }),
    ).leases[0]!;
    expect(lease.version).toBe(123);
    await sandbox.pushBranch("mai/kim/other", {
      [`${DIR}/123_other.sql`]: "ALTER TABLE t_1 ADD COLUMN other int;\n",
    });
    // Meanwhile someone applied 123 = backups in production.
    await prod.query(
      "INSERT INTO paliad.applied_migrations VALUES (121, 'step_121'), (122, 'step_122'), (123, 'backups')",
    );

    const head = await session("head-view", { MAI_ROLE: "head" });
    const result = await head.call("list_slot_leases", {});
    const listed = structured<Listed>(result);
    const row = listed.leases.find((l) => l.lease_id === lease.lease_id)!;
    expect(row.state).toBe("conflicted");
    expect(row.conflicts.map((c) => [c.where, c.name])).toContainEqual(["production", "backups"]);
    const collision = listed.collisions.find((c) => c.version === 123)!;
    expect(collision.holders).toEqual(
      expect.arrayContaining([
        { name: "backups", where: "production" },
        { name: "other", where: "origin/mai/kim/other" },
      ]),
    );
    expect(textOf(result)).toContain("CONFLICT");
    expect(collision.message).toContain("backups");
    expect(collision.message).toContain("123_other.sql");

    // The worker's own server still cannot read production, and says so instead of claiming all is well.
    const mine = structured<Listed>(await kim.call("list_slot_leases", { worker: "kim" }));
    expect(mine.leases.find((l) => l.version === 123)?.notes.join(" ")).toContain(
      "production was not checked",
    );
    // Once production is reachable, the worker sees the conflict, and reserving again moves the lease.
    const kimOnline = await session("mai/kim/online", { MAI_WORKER: "kim" });
    const online = structured<Listed>(await kimOnline.call("list_slot_leases", { worker: "kim" }));
    expect(online.leases.find((l) => l.version === 123)?.state).toBe("conflicted");
    const moved = structured<{
      moved: { from_version: number; to_version: number; rename: { from: string; to: string }[] }[];
    }>(await kimOnline.call("reserve_migration_slot", { name: "other" })).moved[0]!;
    expect(moved.from_version).toBe(123);
    expect(moved.to_version).toBeGreaterThan(123);
    expect(moved.rename[0]).toEqual({
      from: `${DIR}/123_other.sql`,
      to: `${DIR}/${moved.to_version}_other.sql`,
    });
  });

  it("computes merged and applied from main and production", async () => {
    const lea = await session("mai/lea/merge");
    const r = structured<{ leases: { version: number; lease_id: string; files: string[] }[] }>(
      await lea.call("reserve_migration_slot", { name: "merge_me" }),
    );
    const { version, lease_id, files } = r.leases[0]!;
    const stateOf = async () =>
      structured<Listed>(await lea.call("list_slot_leases", { worker: "lea" })).leases.find(
        (l) => l.lease_id === lease_id,
      )!.state;
    expect(await stateOf()).toBe("active");
    await sandbox.commitToMain({ [files[0]!]: "SELECT 1;\n" }, "merge lea");
    expect(await stateOf()).toBe("merged");
    await prod.query("INSERT INTO paliad.applied_migrations VALUES ($1, 'merge_me')", [version]);
    expect(await stateOf()).toBe("applied");
  });

  it("lists branch migrations that no lease covers", async () => {
    await sandbox.pushBranch("mai/nolease/x", { [`${DIR}/400_sneaky.sql`]: "SELECT 1;\n" });
    const head = await session("head-view-2", { MAI_ROLE: "head" });
    const listed = structured<Listed>(await head.call("list_slot_leases", {}));
    expect(listed.unleased).toContainEqual(
      expect.objectContaining({
        version: 400,
        name: "sneaky",
        refs: ["origin/mai/nolease/x"],
        leased_to: null,
      }),
    );
  });

  it("expires a lease past its TTL that no branch holds, and keeps one whose file is pushed", async () => {
    const max = await session("mai/max/ttl");
    const kept = structured<{ leases: { lease_id: string; files: string[] }[] }>(
      await max.call("reserve_migration_slot", { name: "pushed" }),
    ).leases[0]!;
    const lapsed = structured<{ leases: { lease_id: string }[] }>(
      await max.call("reserve_migration_slot", { name: "abandoned" }),
    ).leases[0]!;
    await sandbox.pushBranch("mai/max/ttl", { [kept.files[0]!]: "SELECT 1;\n" });
    clock.advance(2 * 3_600_000);
    const listed = structured<Listed>(
      await max.call("list_slot_leases", { worker: "max", include_ended: true }),
    );
    const state = (id: string) => listed.leases.find((l) => l.lease_id === id)?.state;
    expect(state(kept.lease_id)).toBe("active");
    expect(state(lapsed.lease_id)).toBe("expired");
  });

  it("releasing an already-expired lease changes nothing and says so; two revokes count as two revoked", async () => {
    const pia = await session("mai/pia/lapse");
    const reserve = async (name: string) =>
      structured<{ leases: { lease_id: string }[] }>(await pia.call("reserve_migration_slot", { name }))
        .leases[0]!;
    const gone = await reserve("lapsing");
    clock.advance(2 * 3_600_000);
    const released = await pia.call("release_slot", { lease_id: gone.lease_id, reason: "no longer needed" });
    expect(structured<{ released: boolean; end_reason: string }>(released)).toMatchObject({
      released: false,
      end_reason: "expired",
    });
    expect(textOf(released)).toContain("Not changed:");
    expect(textOf(released)).toContain("had already expired");
    const kept1 = await reserve("kept_one");
    const kept2 = await reserve("kept_two");

    const head = await session("head-count", { MAI_ROLE: "head" });
    for (const l of [kept1, kept2])
      expect(
        (await head.call("release_slot", { lease_id: l.lease_id, reason: "reassigned" })).isError,
      ).toBeFalsy();
    const after = await head.call("list_slot_leases", { worker: "pia" });
    const listed = structured<Listed>(after);
    expect(listed.counts).toMatchObject({ revoked: 2, released: 0 });
    expect(textOf(after)).toContain("2 revoked");
    const all = structured<Listed>(
      await head.call("list_slot_leases", { worker: "pia", include_ended: true }),
    );
    expect(all.leases.filter((l) => l.state === "revoked").map((l) => l.notes[0])).toEqual([
      "revoked by head: reassigned",
      "revoked by head: reassigned",
    ]);
  });

  it("lets a worker release only its own lease, and the head revoke any, with a reason", async () => {
    const ned = await session("mai/ned/rel");
    const oli = await session("mai/oli/rel");
    const lease = structured<{ leases: { lease_id: string; version: number }[] }>(
      await ned.call("reserve_migration_slot", { name: "to_release" }),
    ).leases[0]!;

    const stolen = await oli.call("release_slot", { lease_id: lease.lease_id, reason: "mine now" });
    expect(stolen.isError).toBe(true);
    expect(textOf(stolen)).toContain("belongs to ned");
    const store = await ned.workspace.store(null);
    expect((await store.events({ limit: 5, subject: lease.lease_id })).map((e) => e.action)).toEqual([
      "lease.reserve",
    ]);

    const head = await session("head-rel", { MAI_ROLE: "head" });
    const revoked = structured<{ released: boolean; end_reason: string }>(
      await head.call("release_slot", { version: lease.version, reason: "stale for a week" }),
    );
    expect(revoked).toMatchObject({ released: true, end_reason: "revoked" });
    const again = structured<{ released: boolean }>(
      await ned.call("release_slot", { lease_id: lease.lease_id, reason: "done" }),
    );
    expect(again.released).toBe(false);
    const events = await store.events({ limit: 5, subject: lease.lease_id });
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["lease.revoke", "head"],
      ["lease.reserve", "ned"],
    ]);
  });

  it("refuses reserve_migration_slot to the head and release_slot to the tester", async () => {
    const head = await session("head-reserve", { MAI_ROLE: "head" });
    const r = await head.call("reserve_migration_slot", { name: "x" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('role "head" may not reserve');
    const tester = await session("tester-release", { MAI_ROLE: "tester" });
    const t = await tester.call("release_slot", { version: 1, reason: "x" });
    expect(textOf(t)).toContain('role "tester" may not release');
  });
});
