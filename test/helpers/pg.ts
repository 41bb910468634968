import { randomBytes } from "node:crypto";
import pg from "pg";

export const PG_ADMIN = process.env.MAI_GATE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * The scratch server's unprivileged role and its superuser: a second cluster started by the tests'
 * globalSetup (test/setup/global.ts), so dry runs never run beside "production".
 */
export const SCRATCH_RUNNER = process.env.MAI_GATE_TEST_SCRATCH ?? "";
export const SCRATCH_ADMIN = process.env.MAI_GATE_TEST_SCRATCH_ADMIN ?? "";
if (!SCRATCH_RUNNER)
  throw new Error(
    "MAI_GATE_TEST_SCRATCH is not set: run the tests with vitest (its globalSetup starts the scratch server)",
  );

/**
 * A database on the real PostgreSQL server that stands in for production. Named with the tests'
 * own prefix and dropped afterwards; `dsnReadOnly` logs in as a role that can only SELECT.
 */
export async function createProdDatabase(setupSql: string) {
  const name = `maigate_test_${randomBytes(5).toString("hex")}`;
  const role = `${name}_ro`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  const dsn = url.toString();
  const db = new pg.Client({ connectionString: dsn });
  await db.connect();
  await db.query(setupSql);
  await db.query(`GRANT USAGE ON SCHEMA ${schemasIn(setupSql).join(", ") || "public"} TO ${role}`);
  for (const schema of schemasIn(setupSql))
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
  const ro = new URL(dsn);
  ro.username = role;
  return {
    name,
    dsn,
    dsnReadOnly: ro.toString(),
    query: (sql: string, params?: unknown[]) => db.query(sql, params),
    async drop() {
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    },
  };
}

function schemasIn(sql: string): string[] {
  return [...sql.matchAll(/CREATE SCHEMA (\w+)/gi)].map((m) => m[1]!);
}
