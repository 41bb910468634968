import { randomBytes } from "node:crypto";
import pg from "pg";
import { errorMessage, InputError } from "../errors.js";
import { ScratchError } from "./engine.js";
import { checkScratchRole, inspectRole } from "./pg-role.js";

export interface SetupResult {
  role: string;
  created: boolean;
  /** The DSN to set as scratch.dsn (its password only when the role was just created). */
  dsn: string;
  serverVersionNum: number;
  notes: string[];
}

const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * `mai-gate scratch setup ADMIN_DSN`: creates (or repairs) the unprivileged role dry runs log in as —
 * LOGIN, CREATEDB, and nothing else: not a superuser, no CREATEROLE, no replication, no BYPASSRLS, in
 * none of the roles that reach the server's files or programs. It owns the clones it makes and, on
 * PostgreSQL 13 and later, may create the trusted extensions (pgcrypto, uuid-ossp, citext, pg_trgm,
 * hstore, btree_gin, …) in them, but not dblink or postgres_fdw. Idempotent.
 */
export async function setupScratchRole(adminDsn: string, role = "maigate_runner"): Promise<SetupResult> {
  if (!ROLE.test(role)) throw new InputError(`role "${role}" is not a plain lowercase identifier`);
  const admin = new pg.Client({ connectionString: adminDsn, connectionTimeoutMillis: 5000 });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
  } catch (err) {
    throw new ScratchError(`cannot connect with the admin DSN: ${errorMessage(err)}`, {
      hint: "Pass a DSN of a superuser (or a role with CREATEROLE) on the scratch server.",
    });
  }
  try {
    const version = Number((await admin.query<{ v: string }>("SHOW server_version_num")).rows[0]?.v);
    const exists = (await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role])).rowCount === 1;
    const password = exists ? null : randomBytes(18).toString("base64url");
    const attributes = "LOGIN NOSUPERUSER NOCREATEROLE CREATEDB NOREPLICATION NOBYPASSRLS";
    if (password === null) await admin.query(`ALTER ROLE ${pg.escapeIdentifier(role)} ${attributes}`);
    else
      await admin.query(
        `CREATE ROLE ${pg.escapeIdentifier(role)} ${attributes} PASSWORD ${pg.escapeLiteral(password)}`,
      );
    for (const server of ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"])
      await admin.query(`REVOKE ${server} FROM ${pg.escapeIdentifier(role)}`).catch(() => undefined);
    const url = new URL(adminDsn);
    url.username = role;
    url.password = password ?? "";
    const notes: string[] = [];
    if (version < 130000)
      notes.push(
        `PostgreSQL ${version} is older than 13: the role cannot create trusted extensions; put them in scratch.prelude with scratch.admin_dsn`,
      );
    if (password === null)
      notes.push(`${role} existed: its attributes were reset; its password was left as it was`);
    await verifyAs(url.toString(), password !== null);
    return { role, created: password !== null, dsn: url.toString(), serverVersionNum: version, notes };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Logs in as the role (when its password is known) and checks it with the dry run's own rule. */
async function verifyAs(dsn: string, canLogIn: boolean): Promise<void> {
  if (!canLogIn) return;
  const client = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    checkScratchRole(await inspectRole(client), false);
  } finally {
    await client.end().catch(() => undefined);
  }
}
