import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProductionError } from "../../../src/errors.js";
import { createPgProduction, quoteTable } from "../../../src/prod/history.js";
import { createProdDatabase } from "../../helpers/pg.js";

describe("production's history on the real PostgreSQL server", () => {
  let prod: Awaited<ReturnType<typeof createProdDatabase>>;
  const read = (
    format: "rows" | "golang-migrate" | "goose" | "flyway",
    table?: string,
    statementTimeoutMs = 5000,
  ) =>
    createPgProduction({
      dsn: prod.dsnReadOnly,
      format,
      ...(table ? { table } : {}),
      connectTimeoutMs: 2000,
      statementTimeoutMs,
    });

  beforeAll(async () => {
    prod = await createProdDatabase(`
      CREATE SCHEMA paliad;
      CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL);
      INSERT INTO paliad.applied_migrations VALUES (1, 'init'), (10, 'ten'), (9, 'nine');
      CREATE TABLE public.schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL);
      INSERT INTO public.schema_migrations VALUES (124, true);
      CREATE TABLE public.goose_db_version (id serial, version_id bigint, is_applied boolean, tstamp timestamp DEFAULT now());
      INSERT INTO public.goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (3, false);
      CREATE TABLE public.flyway_schema_history (installed_rank int, version text, description text, success boolean);
      INSERT INTO public.flyway_schema_history VALUES (1, '1', 'init', true), (2, '2', 'add users', true), (3, '3', 'broken', false), (4, NULL, 'views', true);
      CREATE VIEW paliad.tx_probe AS SELECT 1 AS version, current_setting('transaction_read_only') AS name;
      CREATE FUNCTION paliad.slow() RETURNS int LANGUAGE sql AS 'SELECT 1 FROM pg_sleep(5)';
      CREATE VIEW paliad.slow_history AS SELECT paliad.slow() AS version, 'slow'::text AS name;
    `);
  });
  afterAll(async () => {
    await prod.drop();
  });

  it("rows: one row per migration, names known, numeric order", async () => {
    const source = read("rows", "paliad.applied_migrations");
    const h = await source.readHistory();
    await source.close();
    expect(h.rows).toEqual([
      { version: 1, name: "init" },
      { version: 9, name: "nine" },
      { version: 10, name: "ten" },
    ]);
    expect(h).toMatchObject({ maxVersion: 10, namesKnown: true, dirty: false });
  });

  it("golang-migrate: the current version and its dirty flag", async () => {
    const source = read("golang-migrate");
    const h = await source.readHistory();
    await source.close();
    expect(h).toMatchObject({ maxVersion: 124, dirty: true, namesKnown: false });
  });

  it("goose: the latest state of each version counts, version 0 is not a migration", async () => {
    const source = read("goose");
    const h = await source.readHistory();
    await source.close();
    expect(h.rows.map((r) => r.version)).toEqual([1, 2]);
  });

  it("flyway: successful versioned rows, with their descriptions as names", async () => {
    const source = read("flyway");
    const h = await source.readHistory();
    await source.close();
    expect(h.rows).toEqual([
      { version: 1, name: "init" },
      { version: 2, name: "add users" },
    ]);
  });

  it("reads inside a READ ONLY transaction", async () => {
    const source = read("rows", "paliad.tx_probe");
    const h = await source.readHistory();
    await source.close();
    expect(h.rows).toEqual([{ version: 1, name: "on" }]);
  });

  it("a statement that runs past the statement timeout is cancelled and reported", async () => {
    const source = read("rows", "paliad.slow_history", 300);
    await expect(source.readHistory()).rejects.toThrow(/canceling statement due to statement timeout/);
    await source.close();
  });

  it("a missing history table says which setting to fix", async () => {
    const source = read("rows", "paliad.nope");
    await expect(source.readHistory()).rejects.toThrow(ProductionError);
    await expect(source.readHistory()).rejects.toThrow("production has no history table paliad.nope");
    await source.close();
  });

  it("refuses a table name that is not a plain identifier", () => {
    expect(() => quoteTable("paliad.x; DROP TABLE y")).toThrow(ProductionError);
    expect(quoteTable("paliad.applied_migrations")).toBe('"paliad"."applied_migrations"');
  });
});
