import { writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

interface Report {
  passed: boolean;
  engine: { kind: string };
  files: { status: string; failure: { message: string } | null }[];
}

describe("dry_run_migration on embedded PGlite: contrib extensions", () => {
  let app: App;
  let c: Connected;
  let file: string;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3, scratch: "embedded" });
    c = await app.session("mai/kim/extensions");
    const lease = structured<{ leases: { paths: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "extensions" }),
    );
    file = lease.leases[0]!.paths[0]!;
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("loads pgcrypto when a branch migration creates it, and its functions work", async () => {
    await writeFile(
      file,
      `CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE tokens (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), h bytea NOT NULL DEFAULT digest('x', 'sha256'));
INSERT INTO tokens DEFAULT VALUES;
SELECT gen_random_bytes(4);
`,
    );
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.engine.kind).toBe("pglite");
    expect(r.files[0]).toMatchObject({ status: "applied", failure: null });
    expect(r.passed).toBe(true);
  });

  it("loads citext, whose columns compare case-insensitively", async () => {
    await writeFile(
      file,
      `CREATE EXTENSION citext;
CREATE TABLE emails (address citext PRIMARY KEY);
INSERT INTO emails VALUES ('Ann@Example.com');
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM emails WHERE address = 'ann@example.COM') THEN RAISE 'citext is not case-insensitive'; END IF;
END $$;
`,
    );
    const r = structured<Report>(await c.call("dry_run_migration", {}));
    expect(r.files[0]).toMatchObject({ status: "applied", failure: null });
    expect(r.passed).toBe(true);
  });

  it("answers that it cannot rehearse an extension PGlite lacks, records no verdict, and the gate does not pass", async () => {
    await writeFile(file, "CREATE EXTENSION postgis;\nCREATE TABLE places (id int PRIMARY KEY);\n");
    const res = await c.call("dry_run_migration", {});
    expect(res.isError).toBe(true);
    const text = textOf(res);
    expect(text).toContain("cannot rehearse here: extension postgis is not available in the embedded engine");
    expect(text).toContain("scratch.dsn");
    expect(text).not.toMatch(/FAILED/);

    const root = (await c.workspace.repo()).root;
    await execa("git", ["add", "-A"], { cwd: root });
    await execa("git", ["commit", "-qm", "postgis"], { cwd: root });
    const gate = structured<{
      green: boolean;
      conditions: { kind: string; passed: boolean; detail: string }[];
    }>(await c.call("gate_status", {}));
    expect(gate.green).toBe(false);
    const dry = gate.conditions.find((x) => x.kind === "dry_run");
    expect(dry?.passed).toBe(false);
    expect(dry?.detail).not.toMatch(/failed/);
  });
});
