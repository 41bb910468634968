import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { StateStore } from "../../src/store/types.js";
import { type Connected, connect, structured } from "../helpers/mcp.js";

const DIR = "db/migrations";

/**
 * A real SQLite state file whose fetch throttle meets a writer holding the lock (another
 * connection in BEGIN IMMEDIATE) for as long as the claim waits: SQLite's own "database is locked".
 */
function busyThrottle(location: string): StateStore {
  const store = openSqliteStore(location, { busyTimeoutMs: 100 });
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== "claimInterval") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<StateStore["claimInterval"]>) => {
        const other = new Database(location);
        other.exec("BEGIN IMMEDIATE");
        try {
          return await target.claimInterval(...args);
        } finally {
          other.exec("ROLLBACK");
          other.close();
        }
      };
    },
  });
}

describe("a state file too busy for the fetch throttle", () => {
  let sandbox: GitSandbox;
  let c: Connected;
  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      files: numberedMigrations(DIR, 3),
    });
    c = await connect({ cwd: await sandbox.worktree("mai/busy/x"), env: {}, openStore: busyThrottle });
  });
  afterAll(async () => {
    await c.close();
    await sandbox.cleanup();
  });

  it("does not fail the reservation: it goes on with the refs it has and says it did not fetch", async () => {
    const r = await c.call("reserve_migration_slot", { name: "busy" });
    expect(r.isError).toBeFalsy();
    const out = structured<{ leases: { version: number }[]; fetch: { status: string; detail: string } }>(r);
    expect(out.leases[0]?.version).toBe(4);
    expect(out.fetch.status).toBe("skipped");
    expect(out.fetch.detail).toContain("too busy");
  });
});
