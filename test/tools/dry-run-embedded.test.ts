import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { structured } from "../helpers/mcp.js";

interface Report {
  passed: boolean;
  engine: { kind: string; limitations: string[] };
  baseline: { kind: string };
  files: {
    status: string;
    locks: Record<string, string[]> | null;
    failure: { explanation: string | null } | null;
  }[];
}

describe("dry_run_migration with no scratch server: embedded PGlite", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(12, {
        1: ["create_rules", "CREATE TABLE rules (id bigint PRIMARY KEY, is_mandatory boolean);\n"],
        9: ["drop_rule_flags", "ALTER TABLE rules DROP COLUMN is_mandatory;\n"],
      }),
      appliedUpTo: 12,
      scratch: "embedded",
    });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("restores production's dump in PGlite, catches the outage, and says what it could not observe", async () => {
    const c = await app.session("mai/lee/embedded");
    const r1 = structured<{ leases: { paths: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "bad" }),
    );
    await writeFile(r1.leases[0]!.paths[0]!, "UPDATE rules SET is_mandatory = true;\n");
    const bad = structured<Report>(await c.call("dry_run_migration", {}));
    expect(bad.engine.kind).toBe("pglite");
    expect(bad.baseline.kind).toBe("prod");
    expect(bad.passed).toBe(false);
    expect(bad.files[0]!.failure?.explanation).toContain("009_drop_rule_flags.sql");
    expect(bad.engine.limitations.join(" ")).toMatch(/PGlite/);

    await writeFile(r1.leases[0]!.paths[0]!, "ALTER TABLE rules ADD COLUMN owner text;\n");
    const good = structured<Report>(await c.call("dry_run_migration", {}));
    expect(good.passed).toBe(true);
    expect(good.files[0]!.locks?.AccessExclusiveLock).toContain("public.rules");
  });
});
