import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";

const DIR = "db/migrations";

interface Reserved {
  idempotent: boolean;
  leases: { lease_id: string; version: number; files: string[] }[];
  moved: {
    from_version: number;
    to_version: number;
    reason: string;
    rename: { from: string; to: string }[];
  }[];
  fetch: { status: string; detail: string };
  warnings: string[];
}

describe("where versions come from", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  const setup = async (config: Record<string, unknown>, files: Record<string, string>) => {
    const sandbox = await createGitSandbox({ config, files });
    cleanup.push(() => sandbox.cleanup());
    return sandbox;
  };
  const session = async (sandbox: GitSandbox, branch: string, clock?: ManualClock): Promise<Connected> => {
    const c = await connect({ cwd: await sandbox.worktree(branch), env: {}, ...(clock ? { clock } : {}) });
    cleanup.push(() => c.close());
    return c;
  };

  it("never fills a gap below main's maximum", async () => {
    const files = numberedMigrations(DIR, 20);
    delete files[`${DIR}/007_step_7.sql`];
    delete files[`${DIR}/015_step_15.sql`];
    const sandbox = await setup({ migrations: { dir: DIR } }, files);
    const c = await session(sandbox, "mai/gap/x");
    expect(
      structured<Reserved>(await c.call("reserve_migration_slot", { name: "x" })).leases[0]!.version,
    ).toBe(21);
  });

  it("fetches before deciding, so a branch pushed a moment ago counts", async () => {
    const sandbox = await setup(
      { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      numberedMigrations(DIR, 5),
    );
    const c = await session(sandbox, "mai/fetch/x");
    await sandbox.pushBranch("mai/other/y", { [`${DIR}/050_far.sql`]: "SELECT 1;" });
    const r = structured<Reserved>(await c.call("reserve_migration_slot", { name: "after_push" }));
    expect(r.fetch.status).toBe("fetched");
    expect(r.leases[0]!.version).toBe(51);
  });

  it("fetches at most once per interval across calls", async () => {
    const clock = new ManualClock();
    const sandbox = await setup(
      { migrations: { dir: DIR }, git: { fetch_interval_seconds: 5 } },
      numberedMigrations(DIR, 5),
    );
    const c = await session(sandbox, "mai/throttle/x", clock);
    const first = structured<Reserved>(await c.call("reserve_migration_slot", { name: "a" }));
    const second = structured<Reserved>(await c.call("reserve_migration_slot", { name: "b" }));
    clock.advance(6000);
    const third = structured<Reserved>(await c.call("reserve_migration_slot", { name: "c" }));
    expect([first.fetch.status, second.fetch.status, third.fetch.status]).toEqual([
      "fetched",
      "skipped",
      "fetched",
    ]);
    expect(second.fetch.detail).toContain("less than 5s ago");
  });

  it("offline: a remote that cannot be reached is reported and the reservation proceeds", async () => {
    const sandbox = await setup(
      { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      numberedMigrations(DIR, 5),
    );
    const c = await session(sandbox, "mai/offline/x");
    await sandbox.git(sandbox.host, "remote", "set-url", "origin", `${sandbox.dir}/gone.git`);
    const result = await c.call("reserve_migration_slot", { name: "offline" });
    const r = structured<Reserved>(result);
    expect(r.fetch.status).toBe("failed");
    expect(r.leases[0]!.version).toBe(6);
    expect(textOf(result)).toContain("git fetch origin failed");
  });

  it("a fetch that hangs is cut off at its timeout and the reservation proceeds", async () => {
    const sandbox = await setup(
      { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0, fetch_timeout_seconds: 1 } },
      numberedMigrations(DIR, 5),
    );
    const c = await session(sandbox, "mai/hang/x");
    await sandbox.git(sandbox.host, "config", "protocol.ext.allow", "always");
    await sandbox.git(sandbox.host, "remote", "set-url", "origin", "ext::sh -c sleep% 5");
    const r = structured<Reserved>(await c.call("reserve_migration_slot", { name: "hang" }));
    expect(r.fetch).toEqual({ status: "failed", detail: "origin: timed out after 1000 ms" });
    expect(r.leases[0]!.version).toBe(6);
  });

  it("timestamp layout: the current UTC time, moved past the largest version taken", async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    const sandbox = await setup(
      { migrations: { dir: DIR, layout: "timestamp" } },
      { [`${DIR}/20261125110000_a.up.sql`]: "SELECT 1;", [`${DIR}/20261125110000_a.down.sql`]: "SELECT 1;" },
    );
    await sandbox.pushBranch("mai/future/x", { [`${DIR}/20261125130000_future.up.sql`]: "SELECT 1;" });
    const c = await session(sandbox, "mai/ts/x", clock);
    const r = structured<Reserved>(await c.call("reserve_migration_slot", { name: "stamped", count: 2 }));
    expect(r.leases.map((l) => l.version)).toEqual([20261125130001, 20261125130002]);
    expect(r.leases[0]!.files).toEqual([
      `${DIR}/20261125130001_stamped_1.up.sql`,
      `${DIR}/20261125130001_stamped_1.down.sql`,
    ]);
    const c2 = await session(sandbox, "mai/ts/y", clock);
    clock.advance(86_400_000);
    const later = structured<Reserved>(await c2.call("reserve_migration_slot", { name: "tomorrow" }));
    expect(later.leases[0]!.version).toBe(20261126120000);
  });

  it("strict ordering: a lease that main overtook moves up and says which file to rename", async () => {
    const sandbox = await setup(
      {
        migrations: { dir: DIR, layout: "golang-migrate", ordering: "strict" },
        git: { fetch_interval_seconds: 0 },
      },
      { [`${DIR}/1_init.up.sql`]: "SELECT 1;" },
    );
    const c = await session(sandbox, "mai/slow/x");
    const first = structured<Reserved>(await c.call("reserve_migration_slot", { name: "slow_change" }));
    expect(first.leases[0]!.version).toBe(2);
    await sandbox.commitToMain({ [`${DIR}/3_fast.up.sql`]: "SELECT 1;" }, "someone merged 3 first");
    const again = structured<Reserved>(await c.call("reserve_migration_slot", { name: "slow_change" }));
    expect(again.idempotent).toBe(false);
    expect(again.leases[0]!.version).toBe(4);
    expect(again.moved).toEqual([
      {
        from_version: 2,
        to_version: 4,
        reason:
          "out of order: main or production already has 3, and the migrator skips or refuses a lower version",
        rename: [
          { from: `${DIR}/2_slow_change.up.sql`, to: `${DIR}/4_slow_change.up.sql` },
          { from: `${DIR}/2_slow_change.down.sql`, to: `${DIR}/4_slow_change.down.sql` },
        ],
      },
    ]);
    const store = await c.workspace.store(null);
    const all = await store.listLeases({ includeEnded: true, limit: 10 });
    expect(all.map((l) => [l.version, l.endReason])).toEqual([
      [4, null],
      [2, "moved"],
    ]);
  });

  it("set ordering keeps a lease below main's maximum where it is", async () => {
    const sandbox = await setup(
      { migrations: { dir: DIR, layout: "golang-migrate" }, git: { fetch_interval_seconds: 0 } },
      { [`${DIR}/1_init.up.sql`]: "SELECT 1;" },
    );
    const c = await session(sandbox, "mai/set/x");
    await c.call("reserve_migration_slot", { name: "keep" });
    await sandbox.commitToMain({ [`${DIR}/3_fast.up.sql`]: "SELECT 1;" });
    const again = structured<Reserved>(await c.call("reserve_migration_slot", { name: "keep" }));
    expect(again.idempotent).toBe(true);
    expect(again.leases[0]!.version).toBe(2);
  });
});
