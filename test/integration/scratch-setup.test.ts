import { randomBytes } from "node:crypto";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCRATCH_ADMIN } from "../helpers/pg.js";
import { CLI } from "../helpers/stdio.js";

/** `mai-gate scratch setup`: the unprivileged role dry runs log in as, created and repaired. */
describe("mai-gate scratch setup, through the built CLI", () => {
  const role = `maigate_setup_${randomBytes(4).toString("hex")}`;
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });
  const setup = (args: string[], env: Record<string, string> = { ADMIN: SCRATCH_ADMIN }) =>
    execa(process.execPath, [CLI, "scratch", "setup", ...args], { env, reject: false });
  const attributes = async () =>
    (
      await admin.query(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1",
        [role],
      )
    ).rows[0];

  it("creates a role that may create its clones and nothing else, and prints its DSN", async () => {
    const r = await setup(["env:ADMIN", "--role", role]);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Created the scratch role ${role}`);
    expect(r.stdout).toMatch(
      new RegExp(`SCRATCH_DSN=postgres://${role}:[\\w-]+@127\\.0\\.0\\.1:\\d+/postgres`),
    );
    expect(await attributes()).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: true,
      rolcanlogin: true,
      rolreplication: false,
      rolbypassrls: false,
    });
  });

  it("repairs a role that gained privileges, and says its password was left alone", async () => {
    await admin.query(`ALTER ROLE ${role} SUPERUSER CREATEROLE`);
    await admin.query(`GRANT pg_execute_server_program TO ${role}`);
    const r = await setup(["env:ADMIN", "--role", role]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`Checked the scratch role ${role}`);
    expect(r.stdout).toContain("its password was left as it was");
    expect(await attributes()).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: true });
    const member = await admin.query("SELECT pg_has_role($1, 'pg_execute_server_program', 'MEMBER') AS m", [
      role,
    ]);
    expect(member.rows[0]?.m).toBe(false);
  });

  it("without an admin DSN it is a usage error (exit 2) that says what to give", async () => {
    const r = await setup(["env:NOT_SET_ANYWHERE"], {});
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("NOT_SET_ANYWHERE is not set");
  });
});
