import { writeFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { type Connected, structured } from "../helpers/mcp.js";
import { SCRATCH_ADMIN } from "../helpers/pg.js";

/** Backends on the scratch server running the marker query, waited for (boundedly) to reach `want`. */
async function sleepers(marker: string, want: (n: number) => boolean): Promise<number> {
  const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
  await admin.connect();
  try {
    let n = -1;
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
        [`%${marker}%`],
      );
      n = Number(rows[0]?.n);
      if (want(n)) return n;
      await new Promise((r) => setTimeout(r, 100));
    }
    return n;
  } finally {
    await admin.end();
  }
}

describe("dry_run_migration honours the call's abort signal (scratch server)", () => {
  let app: App;
  let c: Connected;
  let file: string;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
    c = await app.session("mai/abe/abort");
    const lease = structured<{ leases: { paths: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "slow" }),
    );
    file = lease.leases[0]!.paths[0]!;
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("cancels the running statement on the server, records nothing, and the next dry run answers", async () => {
    const marker = "maigate_abort_marker";
    await writeFile(file, `CREATE TABLE slow (id int);\nSELECT pg_sleep(600) AS ${marker};\n`);
    const controller = new AbortController();
    const call = c.client.callTool({ name: "dry_run_migration", arguments: {} }, undefined, {
      signal: controller.signal,
      timeout: 120_000,
    });
    expect(await sleepers(marker, (n) => n > 0)).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    // The server cancelled the statement: nothing is left sleeping on the scratch server.
    expect(await sleepers(marker, (n) => n === 0)).toBe(0);

    const store = await c.workspace.store(null);
    expect(await store.dryRuns({ worker: "abe", limit: 10 })).toEqual([]);

    await writeFile(file, "CREATE TABLE slow (id int);\n");
    const next = structured<{ passed: boolean; files: { status: string }[] }>(
      await c.call("dry_run_migration", {}),
    );
    expect(next.passed).toBe(true);
    expect(next.files[0]?.status).toBe("applied");
  });
});
