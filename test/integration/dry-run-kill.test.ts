import { writeFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { SCRATCH_ADMIN } from "../helpers/pg.js";
import { spawnServer } from "../helpers/stdio.js";

async function databases(like: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
  await admin.connect();
  const r = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [
    like,
  ]);
  await admin.end();
  return r.rows.map((x) => x.datname);
}

async function until<T>(what: string, fn: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe("a dry run killed with SIGKILL", () => {
  let app: App;
  const bystander = `notmaigate_${Date.now()}`;

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${bystander}`);
    await admin.end();
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${bystander}`);
    await admin.end();
    await app.cleanup();
  });

  it("leaves a scratch database that the next start removes; nothing without the prefix is dropped", async () => {
    const cwd = await app.sandbox.worktree("mai/kim/slow");
    const server = await spawnServer(cwd, app.env);
    const lease = (
      (await server.call("reserve_migration_slot", { name: "slow_index" })).structuredContent as {
        leases: { paths: string[] }[];
      }
    ).leases[0]!;
    await writeFile(
      lease.paths[0]!,
      "CREATE INDEX CONCURRENTLY t1_note ON t1 (note);\nSELECT pg_sleep(60);\n",
    );
    const before = new Set(await databases("maigate\\_run\\_%"));
    const call = server.call("dry_run_migration", {}).catch((err: unknown) => err);
    const leftover = await until("the disposable clone", async () => {
      const now = (await databases("maigate\\_run\\_%")).filter((d) => !before.has(d));
      return now[0] ?? null;
    });
    process.kill(server.pid!, "SIGKILL");
    expect(await call).toBeInstanceOf(Error);
    expect(await databases(leftover)).toEqual([leftover]);

    const next = await spawnServer(cwd, app.env);
    try {
      await until("the janitor", async () => ((await databases(leftover)).length === 0 ? true : null));
      expect(await databases(bystander)).toEqual([bystander]);
    } finally {
      await next.close();
    }
  });
});
