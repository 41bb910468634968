import { describe, expect, it } from "vitest";
import { analyzeSql, lineColumnAt, PsqlMetaCommandError, SqlSyntaxError } from "../../../src/dryrun/sql.js";
import { InputError } from "../../../src/errors.js";

/** The error analyzeSql throws for a file, or fails the test when it does not throw. */
async function failure(sql: string): Promise<unknown> {
  try {
    await analyzeSql(sql);
  } catch (err) {
    return err;
  }
  throw new Error("expected analyzeSql to throw");
}

describe("analyzeSql: splitting", () => {
  const file = [
    "-- 091: drop the rule flags — see ticket é", // 1
    "BEGIN;", // 2
    "", // 3
    "/* a block", // 4
    "   comment ✓ */ CREATE INDEX CONCURRENTLY rules_name_idx ON rules (name);", // 5
    "  -- café", // 6
    "  SELECT 'naïve; still a string' AS x; SELECT 2 -- tail", // 7
    ";", // 8
    "UPDATE rules", // 9
    "   SET name = '🚀'", // 10
    " WHERE id = 1;", // 11
    "COMMIT;", // 12
    "-- trailing comment", // 13
  ].join("\n");

  it("cuts statements at their first and last significant characters, after non-ASCII text", async () => {
    const { statements } = await analyzeSql(file);
    expect(statements.map((s) => [s.index, s.text, s.line, s.column, s.endLine])).toEqual([
      [0, "BEGIN", 2, 1, 2],
      [1, "CREATE INDEX CONCURRENTLY rules_name_idx ON rules (name)", 5, 17, 5],
      [2, "SELECT 'naïve; still a string' AS x", 7, 3, 7],
      [3, "SELECT 2", 7, 40, 7],
      [4, "UPDATE rules\n   SET name = '🚀'\n WHERE id = 1", 9, 1, 11],
      [5, "COMMIT", 12, 1, 12],
    ]);
    for (const s of statements) expect(file.slice(s.offset, s.offset + s.text.length)).toBe(s.text);
    expect(statements.map((s) => s.kind)).toEqual([
      "TransactionStmt",
      "IndexStmt",
      "SelectStmt",
      "SelectStmt",
      "UpdateStmt",
      "TransactionStmt",
    ]);
    expect(statements[1]?.ast).toMatchObject({ IndexStmt: { idxname: "rules_name_idx", concurrent: true } });
  });

  it("reports the file's own transaction and its non-transactional statements", async () => {
    const analysis = await analyzeSql(file);
    expect(analysis.ownTransaction).toBe(true);
    expect(analysis.nonTransactional.map((s) => [s.index, s.nonTransactional])).toEqual([
      [1, "CREATE INDEX CONCURRENTLY"],
    ]);
  });

  it("reads a last statement without a semicolon", async () => {
    const { statements } = await analyzeSql("SELECT 1;\n  SELECT 2 -- no semicolon\n\n");
    expect(statements.map((s) => [s.text, s.line, s.column])).toEqual([
      ["SELECT 1", 1, 1],
      ["SELECT 2", 2, 3],
    ]);
  });

  it.each([[""], ["   \n\t\n"], ["-- only a comment\n/* and a block\n   comment */\n"], [";;\n"]])(
    "finds no statements in %j",
    async (sql) => {
      expect(await analyzeSql(sql)).toEqual({ statements: [], ownTransaction: false, nonTransactional: [] });
    },
  );
});

describe("analyzeSql: transaction control", () => {
  it("names each transaction statement", async () => {
    const sql =
      "BEGIN; SAVEPOINT a; RELEASE SAVEPOINT a; ROLLBACK TO SAVEPOINT a; ROLLBACK; " +
      "START TRANSACTION; END; PREPARE TRANSACTION 'x'; COMMIT; SELECT 1";
    const { statements } = await analyzeSql(sql);
    expect(statements.map((s) => s.transactionControl)).toEqual([
      "begin",
      "savepoint",
      "release",
      "rollback_to",
      "rollback",
      "begin",
      "commit",
      "other",
      "commit",
      null,
    ]);
  });

  it.each([
    ["START TRANSACTION;\nCREATE TABLE t (a int);\nCOMMIT;", true],
    ["CREATE TABLE t (a int);\nCOMMIT;", true],
    ["BEGIN;\nCREATE TABLE t (a int);", true],
    ["CREATE TABLE t (a int);\nSAVEPOINT s;", false],
    ["CREATE TABLE t (a int);", false],
  ])("ownTransaction of %j is %s", async (sql, expected) => {
    expect((await analyzeSql(sql)).ownTransaction).toBe(expected);
  });
});

describe("analyzeSql: statements that cannot run in a transaction block", () => {
  it.each([
    ["CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY"],
    ["CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON s.t (a)", "CREATE INDEX CONCURRENTLY"],
    ["DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"],
    ["REINDEX INDEX CONCURRENTLY i", "REINDEX ... CONCURRENTLY"],
    ["REINDEX (CONCURRENTLY) TABLE t", "REINDEX ... CONCURRENTLY"],
    ["REINDEX SCHEMA public", "REINDEX SCHEMA, SYSTEM or DATABASE"],
    ["VACUUM t", "VACUUM"],
    ["VACUUM (ANALYZE, VERBOSE) t", "VACUUM"],
    ["VACUUM", "VACUUM"],
    ["CREATE DATABASE d", "CREATE DATABASE"],
    ["DROP DATABASE IF EXISTS d", "DROP DATABASE"],
    ["ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"],
    ["CREATE TABLESPACE ts LOCATION '/data/ts'", "CREATE TABLESPACE"],
    ["DROP TABLESPACE ts", "DROP TABLESPACE"],
    ["ALTER DATABASE d SET TABLESPACE ts", "ALTER DATABASE ... SET TABLESPACE"],
    ["CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p", "CREATE SUBSCRIPTION"],
    ["ALTER SUBSCRIPTION s REFRESH PUBLICATION", "ALTER SUBSCRIPTION"],
    ["DROP SUBSCRIPTION s", "DROP SUBSCRIPTION"],
    ["CLUSTER", "CLUSTER without a table"],
    ["CLUSTER (VERBOSE)", "CLUSTER without a table"],
  ])("%s → %s", async (sql, reason) => {
    const { statements, nonTransactional } = await analyzeSql(`${sql};`);
    expect(statements.map((s) => s.nonTransactional)).toEqual([reason]);
    expect(nonTransactional).toHaveLength(1);
  });

  it.each([
    "ANALYZE t",
    "CREATE INDEX i ON t (a)",
    "DROP INDEX i",
    "REINDEX TABLE t",
    "REINDEX (CONCURRENTLY false) TABLE t",
    "REINDEX (CONCURRENTLY 0) TABLE t",
    "CLUSTER t",
    "CLUSTER t USING i",
    "ALTER DATABASE d SET work_mem = '1MB'",
    "ALTER TYPE e ADD VALUE 'x'",
    "DROP TABLE t",
  ])("%s runs in a transaction", async (sql) => {
    const { statements, nonTransactional } = await analyzeSql(sql);
    expect(statements.map((s) => s.nonTransactional)).toEqual([null]);
    expect(nonTransactional).toEqual([]);
  });

  it("flags ALTER TYPE ... ADD VALUE only for a server before PostgreSQL 12", async () => {
    const reasons = async (sql: string, serverVersionNum: number) =>
      (await analyzeSql(sql, { serverVersionNum })).statements.map((s) => s.nonTransactional);
    const add = "ALTER TYPE rule_kind ADD VALUE IF NOT EXISTS 'advisory'";
    expect(await reasons(add, 110005)).toEqual(["ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"]);
    expect(await reasons(add, 120000)).toEqual([null]);
    expect(await reasons(add, 170002)).toEqual([null]);
    expect(await reasons("ALTER TYPE rule_kind RENAME VALUE 'a' TO 'b'", 110005)).toEqual([null]);
  });
});

describe("analyzeSql: psql meta-commands", () => {
  it.each([
    ["SELECT 1;\n\\i other.sql\nSELECT 2;", "\\i", 2, 1],
    ["CREATE TABLE t (a int);\n\n   \\set ON_ERROR_STOP on\n", "\\set", 3, 4],
    ["\\connect app\nCREATE TABLE t (a int);", "\\connect", 1, 1],
    ["-- é\n\\echo 'unbalanced quote\nSELECT 1;", "\\echo", 2, 1],
  ])("rejects %j", async (sql, command, line, column) => {
    const err = await failure(sql);
    expect(err).toBeInstanceOf(PsqlMetaCommandError);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ command, line, column, code: "bad_input" });
    const { message, hint } = err as PsqlMetaCommandError;
    expect(message).toContain(command);
    expect(message).toContain(`line ${line}`);
    expect(hint).toMatch(/migrator, not psql/);
  });

  it.each([
    ["a string literal", "INSERT INTO notes (body) VALUES ('first line\n\\i not-a-command.sql');"],
    ["an E'' string", "INSERT INTO notes (body) VALUES (E'it\\'s\n\\set still_the_string');"],
    ["a dollar quote", "DO $body$\nBEGIN\n\\echo inside\nEND\n$body$;"],
    ["a block comment", "/*\n\\connect elsewhere\n*/\nSELECT 1;"],
    ["a line comment", "-- \\i other.sql\nSELECT 1;"],
  ])("ignores a backslash in %s", async (_where, sql) => {
    expect((await analyzeSql(sql)).statements).toHaveLength(1);
  });
});

describe("analyzeSql: syntax errors", () => {
  it("reports the parser's message with a 1-based line and column after non-ASCII text", async () => {
    const err = await failure("-- 🚀 launch notes, café\nSELECT 1;\nALTER WHERE x;\n");
    expect(err).toBeInstanceOf(SqlSyntaxError);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({
      line: 3,
      column: 7,
      parserMessage: 'syntax error at or near "WHERE"',
      message: 'syntax error at or near "WHERE" (line 3, column 7)',
    });
  });

  it("points at an unterminated string", async () => {
    const err = await failure("SELECT 1;\n  SELECT 'never closed;\n");
    expect(err).toMatchObject({ line: 2, column: 10 });
    expect((err as SqlSyntaxError).parserMessage).toMatch(/^unterminated quoted string/);
  });

  it("reports a stray backslash inside a line as a syntax error", async () => {
    expect(await failure("SELECT 1 \\gset\n")).toBeInstanceOf(SqlSyntaxError);
  });
});

describe("lineColumnAt", () => {
  it("counts lines and columns from 1", () => {
    const text = "ab\ncd\n\nef";
    expect(lineColumnAt(text, 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt(text, 2)).toEqual({ line: 1, column: 3 });
    expect(lineColumnAt(text, 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumnAt(text, 7)).toEqual({ line: 4, column: 1 });
    expect(lineColumnAt(text, 8)).toEqual({ line: 4, column: 2 });
  });
});
