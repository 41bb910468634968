import { describe, expect, it } from "vitest";
import type { PreparedFile } from "../../../src/dryrun/apply.js";
import { analyzeSql } from "../../../src/dryrun/sql.js";
import { branchScope, inScope } from "../../../src/site/names.js";
import { type ProbePlan, probePlans } from "../../../src/site/probe-plans.js";
import { preparable, queriesOfFile, queryNames, sqlcParameters } from "../../../src/site/query-files.js";
import { statementWork } from "../../../src/site/statement-work.js";

async function file(sql: string, path = "db/migrations/004_x.sql"): Promise<PreparedFile> {
  return { path, version: 4, name: "x", sha256: "", text: sql, analysis: await analyzeSql(sql) };
}
const plans = async (...sql: string[]) =>
  probePlans(await Promise.all(sql.map((s, i) => file(s, `db/migrations/00${4 + i}_x.sql`))));
const only = async (sql: string) => {
  const [p, ...rest] = await plans(sql);
  expect(rest).toEqual([]);
  return p!;
};

describe("probes derived from the parse tree", () => {
  it("SET NOT NULL counts the NULLs; a quoted name stays one quoted identifier", async () => {
    expect(await only("ALTER TABLE users ALTER COLUMN name SET NOT NULL;")).toMatchObject({
      kind: "rows",
      what: "SET NOT NULL",
      table: { schema: null, name: "users" },
      predicate: 't."name" IS NULL',
      describe: "have name NULL",
    });
    const odd = await only('ALTER TABLE "we""ird" ALTER COLUMN "a""b" SET NOT NULL;');
    expect(odd).toMatchObject({ table: { name: 'we"ird' }, predicate: 't."a""b" IS NULL' });
  });

  it("ADD COLUMN … NOT NULL without a default fails on any row; with a default, or nullable, there is nothing to probe", async () => {
    expect(await only("ALTER TABLE users ADD COLUMN nick text NOT NULL;")).toMatchObject({
      kind: "rows",
      predicate: null,
    });
    expect(await plans("ALTER TABLE users ADD COLUMN nick text NOT NULL DEFAULT '';")).toEqual([]);
    expect(await plans("ALTER TABLE users ADD COLUMN nick text;")).toEqual([]);
  });

  it("SET NOT NULL on a column the branch added: with a default nothing to probe, without one every row fails", async () => {
    expect(
      await plans(
        "ALTER TABLE users ADD COLUMN a int DEFAULT 0;",
        "ALTER TABLE users ALTER COLUMN a SET NOT NULL;",
      ),
    ).toEqual([]);
    const [p] = await plans(
      "ALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ALTER COLUMN a SET NOT NULL;",
    );
    expect(p).toMatchObject({ kind: "rows", predicate: null, describe: "have a NULL" });
  });

  it("CHECK, UNIQUE, PRIMARY KEY, FOREIGN KEY and TYPE … USING each get their probe; NOT VALID gets none", async () => {
    const check = await only(
      "ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18 AND lower(name) <> '');",
    );
    expect(check).toMatchObject({
      kind: "rows",
      predicate: `(((t."age" >= 18) AND (pg_catalog."lower"(t."name") <> E''))) IS FALSE`,
    });
    expect(await plans("ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18) NOT VALID;")).toEqual([]);
    const pk = await plans("ALTER TABLE users ADD PRIMARY KEY (a, b);");
    expect(pk.map((p) => p.kind)).toEqual(["unique", "rows"]);
    expect(await only("ALTER TABLE users ADD FOREIGN KEY (org_id) REFERENCES app.orgs;")).toMatchObject({
      kind: "foreign_key",
      columns: ["org_id"],
      parent: { schema: "app", name: "orgs" },
      parentColumns: null,
    });
    expect(
      await only("ALTER TABLE users ALTER COLUMN age TYPE integer USING nullif(age, '')::integer;"),
    ).toMatchObject({
      kind: "cast",
      column: "age",
      type: '"pg_catalog"."int4"',
      using: `(NULLIF(t."age", E''))::"pg_catalog"."int4"`,
    });
    expect(await only("ALTER TABLE users ALTER COLUMN email TYPE varchar(20);")).toMatchObject({
      typmodLength: 20,
      using: null,
    });
  });

  it("a unique index probes its keys and predicate; a non-unique or CONCURRENTLY-built plain index has none", async () => {
    expect(
      await only("CREATE UNIQUE INDEX CONCURRENTLY u ON users (lower(email)) WHERE deleted_at IS NULL;"),
    ).toMatchObject({
      kind: "unique",
      keys: ['pg_catalog."lower"(t."email")'],
      where: '(t."deleted_at" IS NULL)',
      nullsDistinct: true,
    });
    expect(await plans("CREATE INDEX u ON users (email);")).toEqual([]);
  });

  it("tables the branch creates have no production rows; after a backfill of the table, later probes are not verified", async () => {
    expect(await plans("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;")).toEqual([]);
    const [p] = await plans(
      "UPDATE users SET name = '' WHERE name IS NULL;",
      "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
    );
    expect(p).toMatchObject({ kind: "unverified" });
    expect((p as Extract<ProbePlan, { kind: "unverified" }>).reason).toContain("UPDATE at 004_x.sql:1");
  });

  it("the branch's expression never reaches production unless built from vetted nodes: functions, subqueries and other tables are refused", async () => {
    for (const expr of [
      "pg_sleep(10) IS NOT NULL",
      "(SELECT count(*) FROM secrets) = 0",
      "my_func(age)",
      "public.lower(name) <> ''",
      "other.col = 1",
      "age OPERATOR(public.=) 1",
      "count(*) OVER () > 0",
    ]) {
      const p = await only(`ALTER TABLE users ADD CONSTRAINT c CHECK (${expr});`);
      expect(p.kind, expr).toBe("unverified");
      expect((p as { reason: string }).reason).toContain("which mai-gate does not evaluate on production");
    }
  });

  it("string constants are re-quoted whatever they hold", async () => {
    const p = await only(
      String.raw`ALTER TABLE users ADD CONSTRAINT c CHECK (name <> 'a''); DROP TABLE users; --\');`,
    );
    expect((p as { predicate: string }).predicate).toBe(
      String.raw`((t."name" <> E'a''); DROP TABLE users; --\\')) IS FALSE`,
    );
  });
});

describe("statement work (what the lock watch looks for)", () => {
  const work = async (sql: string) => statementWork((await analyzeSql(sql)).statements[0]!.ast);
  it("names validation scans and index builds with the lock they take; CONCURRENTLY and NOT VALID do none", async () => {
    expect(await work("ALTER TABLE users ALTER COLUMN a SET NOT NULL")).toMatchObject([
      { work: "validation", what: "SET NOT NULL", lock: "AccessExclusiveLock" },
    ]);
    expect(await work("ALTER TABLE users ADD FOREIGN KEY (a) REFERENCES b")).toMatchObject([
      { work: "validation", lock: "ShareRowExclusiveLock" },
    ]);
    expect(await work("CREATE INDEX i ON users (a)")).toMatchObject([
      { work: "index build", lock: "ShareLock" },
    ]);
    expect(await work("CREATE INDEX CONCURRENTLY i ON users (a)")).toEqual([]);
    expect(await work("ALTER TABLE users ADD CONSTRAINT c CHECK (a > 0) NOT VALID")).toEqual([]);
    expect(await work("ALTER TABLE users ADD COLUMN b text")).toEqual([]);
  });
});

describe("query files", () => {
  it("sqlc parameters become $n, one number per name", () => {
    expect(
      sqlcParameters(
        "SELECT * FROM u WHERE id = @id AND org = sqlc.arg(org) AND id <> @id AND x = sqlc.narg('x')",
      ),
    ).toBe("SELECT * FROM u WHERE id = $1 AND org = $2 AND id <> $1 AND x = $3");
  });

  it("splits a sqlc file into named statements; only single statements PREPARE accepts are prepared", async () => {
    const qs = await queriesOfFile(
      "queries/users.sql",
      "-- name: GetUser :one\nSELECT email FROM users WHERE id = @id;\n\n-- name: Touch :exec\nUPDATE users SET name = @name WHERE id = @id;\n",
    );
    expect(qs).toEqual([
      { text: "SELECT email FROM users WHERE id = $1", calls: null, source: "queries/users.sql (GetUser)" },
      { text: "UPDATE users SET name = $1 WHERE id = $2", calls: null, source: "queries/users.sql (Touch)" },
    ]);
    expect(await preparable("SELECT 1")).toBe(true);
    expect(await preparable("BEGIN")).toBe(false);
    expect(await preparable("SELECT 1; DROP TABLE users")).toBe(false);
    expect(await preparable("CREATE TABLE x (a int)")).toBe(false);
  });
});

describe("which live queries a branch can break (names.ts)", () => {
  const scope = async (...sql: string[]) => branchScope(await Promise.all(sql.map((s) => file(s))));
  const names = async (q: string) => (await queryNames(q))!;

  it("a query is in scope when it spells a table, type or function the branch's DDL names; not for columns alone", async () => {
    const s = await scope(
      "ALTER TABLE users DROP COLUMN email;\nALTER TABLE users ADD CONSTRAINT c CHECK (length(name) > 0);",
    );
    expect(inScope(await names("SELECT email FROM users WHERE id = $1"), s)).toBe(true);
    expect(inScope(await names("SELECT email, name FROM accounts WHERE length(name) > $1"), s)).toBe(false);
    const t = await scope("DROP TYPE mood;");
    expect(inScope(await names("SELECT $1::mood"), t)).toBe(true);
    expect(inScope(await names("SELECT $1::text"), await scope("ALTER TABLE users ADD COLUMN b text;"))).toBe(
      false,
    );
  });

  it("row changes, SET lock_timeout and transaction control name nothing; CASCADE, DO, SET search_path and schema renames reach everything", async () => {
    const rows = await scope("SET lock_timeout = '5s';\nBEGIN;\nUPDATE users SET name = '';\nCOMMIT;");
    expect(inScope(await names("SELECT name FROM users"), rows)).toBe(false);
    for (const sql of [
      "ALTER TABLE users DROP COLUMN email CASCADE;",
      "DO $$ BEGIN PERFORM 1; END $$;",
      "SET search_path = app;",
      "ALTER SCHEMA app RENAME TO old_app;",
      "DROP TABLE users CASCADE;",
    ])
      expect(await scope(sql), sql).toBe("all");
  });
});
