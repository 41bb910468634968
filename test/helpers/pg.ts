import { randomBytes } from "node:crypto";
import pg from "pg";

export const PG_ADMIN = process.env.MAI_GATE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

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
