import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { structured } from "../helpers/mcp.js";

interface Report {
  passed: boolean;
  mode: string;
  files: { status: string; failure: { sqlstate: string | null; message: string } | null }[];
}

describe("dry runs with transaction: all (the app's migrator wraps every pending file in one transaction)", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(3),
      appliedUpTo: 3,
      config: {
        migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", transaction: "all" },
      },
    });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("passes ordinary files, and fails CREATE INDEX CONCURRENTLY exactly as the migrator would", async () => {
    const c = await app.session("mai/all/x");
    const a = structured<{ leases: { paths: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "plain" }),
    );
    await writeFile(a.leases[0]!.paths[0]!, "ALTER TABLE t1 ADD COLUMN extra int;\n");
    expect(structured<Report>(await c.call("dry_run_migration", {})).passed).toBe(true);

    const b = structured<{ leases: { paths: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "concurrent" }),
    );
    await writeFile(b.leases[0]!.paths[0]!, "CREATE INDEX CONCURRENTLY t1_extra ON t1 (extra);\n");
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(false);
    expect(r.mode).toBe("disposable");
    expect(r.files.map((f) => f.status)).toEqual(["applied", "failed"]);
    expect(r.files[1]!.failure).toMatchObject({ sqlstate: "25001" });
  });
});
