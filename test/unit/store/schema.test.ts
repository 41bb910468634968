import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { StateError } from "../../../src/errors.js";
import { openPostgresStore } from "../../../src/store/postgres.js";
import { POSTGRES_SCHEMA, SQLITE_SCHEMA } from "../../../src/store/schema.js";
import { postgresBackend } from "../../helpers/state-backends.js";

const backend = postgresBackend();
/** The newest schema step this code knows: what a freshly opened store must be at. */
const LATEST = POSTGRES_SCHEMA.at(-1)!.version;

afterAll(() => backend.cleanup());

async function sql(dsn: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describe("PostgreSQL state schema", () => {
  it("numbers its steps like the SQLite ones", () => {
    expect(POSTGRES_SCHEMA.map((s) => [s.version, s.name])).toEqual(
      SQLITE_SCHEMA.map((s) => [s.version, s.name]),
    );
  });

  it("gives both stores the same tables and columns, in order, with the same nullability (one description, two dialects)", async () => {
    const dsn = await backend.fresh();
    const store = await openPostgresStore(dsn);
    await store.close();
    const onPostgres = await sql(
      dsn,
      `SELECT table_name AS t, column_name AS c, is_nullable = 'NO' AS required FROM information_schema.columns
       WHERE table_schema = 'mai_gate' AND table_name <> 'schema_migrations' ORDER BY table_name, ordinal_position`,
    );
    const lite = new Database(":memory:");
    for (const step of SQLITE_SCHEMA) lite.exec(step.sql);
    const onSqlite = (
      lite
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[]
    ).flatMap(({ name }) =>
      (lite.pragma(`table_info(${name})`) as { name: string; notnull: number; pk: number }[]).map((col) => ({
        t: name,
        c: col.name,
        // A primary key is never null on PostgreSQL; SQLite reports it as nullable unless said.
        required: col.notnull === 1 || col.pk > 0,
      })),
    );
    lite.close();
    expect(onSqlite.length).toBeGreaterThan(50);
    expect(onSqlite).toEqual(onPostgres.rows);
  });

  it("lets many stores open one fresh database at once", async () => {
    const dsn = await backend.fresh();
    const stores = await Promise.all(Array.from({ length: 12 }, () => openPostgresStore(dsn)));
    try {
      expect(await Promise.all(stores.map((s) => s.schemaVersion()))).toEqual(stores.map(() => LATEST));
      const applied = await sql(dsn, "SELECT version FROM mai_gate.schema_migrations ORDER BY version");
      expect(applied.rows.map((r: { version: string }) => Number(r.version))).toEqual(
        POSTGRES_SCHEMA.map((s) => s.version),
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("keeps its tables in the mai_gate schema", async () => {
    const dsn = await backend.fresh();
    const store = await openPostgresStore(dsn);
    await store.close();
    const tables = await sql(
      dsn,
      "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    );
    expect(tables.rows.map((r: { t: string }) => r.t)).toEqual([
      "mai_gate.completions",
      "mai_gate.dry_runs",
      "mai_gate.events",
      "mai_gate.leases",
      "mai_gate.meta",
      "mai_gate.schema_migrations",
      "mai_gate.suite_runs",
    ]);
  });

  it("refuses a database whose schema is newer than this code", async () => {
    const dsn = await backend.fresh();
    await (await openPostgresStore(dsn)).close();
    await sql(dsn, `INSERT INTO mai_gate.schema_migrations VALUES (${LATEST + 1}, 'future', 0)`);
    const opening = openPostgresStore(dsn);
    await expect(opening).rejects.toBeInstanceOf(StateError);
    await expect(opening).rejects.toThrow(
      `the state database has schema ${LATEST + 1}; this mai-gate knows up to ${LATEST}`,
    );
  });

  it("shows its location without the password", async () => {
    const url = new URL(await backend.fresh());
    url.password = "s3cret";
    const store = await openPostgresStore(url.toString());
    try {
      expect(store.location).not.toContain("s3cret");
      expect(store.location).toContain(url.pathname);
    } finally {
      await store.close();
    }
  });

  it("turns an unreachable server into a StateError", async () => {
    const opening = openPostgresStore("postgres://postgres:pw@127.0.0.1:1/nowhere");
    await expect(opening).rejects.toBeInstanceOf(StateError);
    await expect(opening).rejects.toThrow(
      /cannot open the state database postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere/,
    );
  });
});
