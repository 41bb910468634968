/**
 * Splits a migration file into statements with the real Postgres parser (libpg-query) and says which
 * statements control the transaction or cannot run inside one.
 */
import type { DefElem, Node, RawStmt, ReindexObjectType, ScanToken, TransactionStmtKind } from "libpg-query";
import { InputError } from "../errors.js";

type Parser = typeof import("libpg-query");
let parser: Parser | undefined;

/** The parser (WebAssembly) loads with the first file analysed, not with every module that imports this one. */
async function loadParser(): Promise<Parser> {
  if (!parser) {
    const lib = await import("libpg-query");
    await lib.loadModule();
    parser = lib;
  }
  return parser;
}

export type TransactionControl =
  | "begin"
  | "commit"
  | "rollback"
  | "savepoint"
  | "release"
  | "rollback_to"
  | "other";

export interface SqlStatement {
  /** 0-based position in the file. */
  index: number;
  /** The statement from its first significant character, without trailing comments and semicolon. */
  text: string;
  /** JS string index in the file of the first significant character. */
  offset: number;
  line: number;
  column: number;
  /** 1-based line of the statement's last character. */
  endLine: number;
  /** The AST node type, e.g. `IndexStmt`. */
  kind: string;
  transactionControl: TransactionControl | null;
  /** Why it cannot run inside a transaction block, e.g. `CREATE INDEX CONCURRENTLY`; else null. */
  nonTransactional: string | null;
  /** The statement node, e.g. `{ IndexStmt: {...} }`. */
  ast: Record<string, unknown>;
}

export interface SqlAnalysis {
  statements: SqlStatement[];
  /** The file has BEGIN / START TRANSACTION or COMMIT itself. */
  ownTransaction: boolean;
  nonTransactional: SqlStatement[];
}

export class PsqlMetaCommandError extends InputError {
  readonly line: number;
  readonly column: number;
  readonly command: string;
  constructor(command: string, line: number, column: number) {
    super(
      `line ${line} holds the psql meta-command ${command}, which is not SQL`,
      "Migrations run through the app's migrator, not psql, so they must be plain SQL: replace the meta-command with the SQL it stands for.",
    );
    this.command = command;
    this.line = line;
    this.column = column;
  }
}

export class SqlSyntaxError extends InputError {
  readonly line: number;
  readonly column: number;
  /** The parser's own message, e.g. `syntax error at or near "WHERE"`. */
  readonly parserMessage: string;
  constructor(parserMessage: string, line: number, column: number) {
    super(
      `${parserMessage} (line ${line}, column ${column})`,
      "Fix the SQL at that position; the file is parsed by the same parser PostgreSQL uses.",
    );
    this.parserMessage = parserMessage;
    this.line = line;
    this.column = column;
  }
}

/** Node type names of the libpg-query AST (`IndexStmt`, `DropStmt`, …) and the body under each. */
type KeysOf<T> = T extends unknown ? keyof T : never;
export type AstKind = KeysOf<Node>;
export type AstBody<K extends AstKind> = Extract<Node, Record<K, unknown>>[K];

/** The node type and its body of a one-key AST node such as `{ IndexStmt: {...} }`. */
export function astKind(ast: Record<string, unknown>): AstKind {
  return (Object.keys(ast)[0] ?? "") as AstKind;
}

const WHOLE_REINDEX = new Set<ReindexObjectType>([
  "REINDEX_OBJECT_SCHEMA",
  "REINDEX_OBJECT_SYSTEM",
  "REINDEX_OBJECT_DATABASE",
]);

type Rule<K extends AstKind> = (body: AstBody<K>, serverVersionNum: number | undefined) => string | null;

/** Statements PostgreSQL refuses inside a transaction block, with the reason to report. */
const NON_TRANSACTIONAL: { [K in AstKind]?: Rule<K> } = {
  IndexStmt: (s) => (s.concurrent ? "CREATE INDEX CONCURRENTLY" : null),
  DropStmt: (s) => (s.concurrent ? "DROP INDEX CONCURRENTLY" : null),
  ReindexStmt: (s) => {
    if (optionOn(s.params, "concurrently")) return "REINDEX ... CONCURRENTLY";
    return s.kind && WHOLE_REINDEX.has(s.kind) ? "REINDEX SCHEMA, SYSTEM or DATABASE" : null;
  },
  VacuumStmt: (s) => (s.is_vacuumcmd ? "VACUUM" : null),
  CreatedbStmt: () => "CREATE DATABASE",
  DropdbStmt: () => "DROP DATABASE",
  AlterSystemStmt: () => "ALTER SYSTEM",
  CreateTableSpaceStmt: () => "CREATE TABLESPACE",
  DropTableSpaceStmt: () => "DROP TABLESPACE",
  AlterDatabaseStmt: (s) =>
    s.options?.some((o) => "DefElem" in o && o.DefElem.defname === "tablespace")
      ? "ALTER DATABASE ... SET TABLESPACE"
      : null,
  CreateSubscriptionStmt: () => "CREATE SUBSCRIPTION",
  AlterSubscriptionStmt: () => "ALTER SUBSCRIPTION",
  DropSubscriptionStmt: () => "DROP SUBSCRIPTION",
  ClusterStmt: (s) => (s.relation ? null : "CLUSTER without a table"),
  AlterEnumStmt: (s, version) =>
    version !== undefined && version < 120000 && s.newVal !== undefined && s.oldVal === undefined
      ? "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
      : null,
};

const TRANSACTION_CONTROL: Partial<Record<TransactionStmtKind, TransactionControl>> = {
  TRANS_STMT_BEGIN: "begin",
  TRANS_STMT_START: "begin",
  TRANS_STMT_COMMIT: "commit",
  TRANS_STMT_ROLLBACK: "rollback",
  TRANS_STMT_SAVEPOINT: "savepoint",
  TRANS_STMT_RELEASE: "release",
  TRANS_STMT_ROLLBACK_TO: "rollback_to",
};

/** A boolean option such as `(CONCURRENTLY)`, `(CONCURRENTLY false)`; zero values are omitted by the AST. */
function optionOn(params: Node[] | undefined, name: string): boolean {
  const option = params?.find((p): p is { DefElem: DefElem } => "DefElem" in p && p.DefElem.defname === name);
  if (!option) return false;
  const arg = option.DefElem.arg;
  if (!arg) return true;
  if ("String" in arg) return !["false", "off", "no", "0"].includes((arg.String.sval ?? "").toLowerCase());
  if ("Integer" in arg) return (arg.Integer.ival ?? 0) !== 0;
  if ("Boolean" in arg) return arg.Boolean.boolval === true;
  return true;
}

function classify(ast: Record<string, unknown>, serverVersionNum: number | undefined) {
  const kind = astKind(ast);
  const rule = NON_TRANSACTIONAL[kind] as ((body: unknown, version?: number) => string | null) | undefined;
  const tx = kind === "TransactionStmt" ? (ast as { TransactionStmt: { kind?: TransactionStmtKind } }) : null;
  return {
    kind,
    nonTransactional: rule ? rule(ast[kind], serverVersionNum) : null,
    transactionControl: tx
      ? (TRANSACTION_CONTROL[tx.TransactionStmt.kind ?? "TRANS_STMT_BEGIN"] ?? "other")
      : null,
  };
}

/** 1-based line and column (in UTF-16 code units) of a JS string index. */
export function lineColumnAt(text: string, index: number): { line: number; column: number } {
  return lineIndex(text)(index);
}

/** The first i in [0, length) with valueAt(i) >= target (values ascending), else length. */
function firstAtLeast(length: number, valueAt: (i: number) => number, target: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (valueAt(mid) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function lineIndex(text: string): (index: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (index) => {
    const line = firstAtLeast(starts.length, (i) => starts[i] ?? 0, index + 1);
    return { line, column: index - (starts[line - 1] ?? 0) + 1 };
  };
}

/** Maps UTF-8 byte offsets (libpg-query's locations) to JS string indexes. */
function byteIndexer(text: string): (byte: number) => number {
  const bytes = Buffer.byteLength(text);
  if (bytes === text.length) return (byte) => byte;
  const map = new Uint32Array(bytes + 1);
  let byte = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.codePointAt(i) ?? 0;
    const width = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    map.fill(i, byte, byte + width);
    byte += width;
    if (code >= 0x10000) i++;
  }
  map[bytes] = text.length;
  return (b) => map[Math.min(Math.max(b, 0), bytes)] ?? text.length;
}

/** The parser's error cursor counts characters (code points), not bytes nor UTF-16 units. */
function codePointIndex(text: string, codePoints: number): number {
  let index = 0;
  for (let n = 0; n < codePoints && index < text.length; n++) {
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}

function tryScan(text: string): ScanToken[] | null {
  try {
    return parser!.scanSync(text).tokens;
  } catch {
    return null;
  }
}

const isComment = (t: ScanToken) => t.tokenName === "SQL_COMMENT" || t.tokenName === "C_COMMENT";

/** The error for a backslash that is the first non-blank character of its line, else null. */
function metaCommandAt(text: string, index: number): PsqlMetaCommandError | null {
  if (text[index] !== "\\") return null;
  const lineStart = text.lastIndexOf("\n", index - 1) + 1;
  if (text.slice(lineStart, index).trim() !== "") return null;
  const command = /^\\[^\s\\]*/.exec(text.slice(index))?.[0] ?? "\\";
  const { line, column } = lineColumnAt(text, index);
  return new PsqlMetaCommandError(command, line, column);
}

/** Throws on a psql meta-command; the scanner keeps backslashes in literals and comments inside their token. */
function rejectMetaCommands(text: string, tokens: ScanToken[], toIndex: (byte: number) => number): void {
  for (const token of tokens) {
    const error = token.text === "\\" ? metaCommandAt(text, toIndex(token.start)) : null;
    if (error) throw error;
  }
}

/**
 * The parser's error as a SqlSyntaxError. When the file did not scan (say `\echo 'unbalanced`), the
 * meta-command check happens here: the grammar has no use for a backslash, so the parser stops at it.
 */
function syntaxError(text: string, err: unknown): unknown {
  if (!parser!.hasSqlDetails(err) || !err.sqlDetails) return err;
  const index = codePointIndex(text, err.sqlDetails.cursorPosition);
  const meta = metaCommandAt(text, index);
  if (meta) return meta;
  const { line, column } = lineColumnAt(text, index);
  return new SqlSyntaxError(err.sqlDetails.message, line, column);
}

/** The file with its tokens and position maps. */
interface Source {
  text: string;
  bytes: number;
  tokens: ScanToken[];
  toIndex: (byte: number) => number;
  position: (index: number) => { line: number; column: number };
}

/**
 * One parsed statement located in the file. Its byte range may hold leading and trailing comments
 * (`stmt_len` runs up to the `;`), so text is cut to the first and last significant token.
 */
function locate(src: Source, raw: RawStmt, ast: Record<string, unknown>, serverVersionNum?: number) {
  const from = raw.stmt_location ?? 0;
  const to = raw.stmt_len ? from + raw.stmt_len : src.bytes;
  const { tokens } = src;
  let first: ScanToken | undefined;
  let last: ScanToken | undefined;
  for (let i = firstAtLeast(tokens.length, (j) => tokens[j]?.start ?? 0, from); i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.end > to) break;
    if (isComment(token) || token.text === ";") continue;
    first ??= token;
    last = token;
  }
  const start = src.toIndex(first?.start ?? from);
  const body = src.text.slice(start, src.toIndex(last?.end ?? to)).trimEnd();
  const { line, column } = src.position(start);
  const endLine = src.position(start + Math.max(body.length - 1, 0)).line;
  return { text: body, offset: start, line, column, endLine, ...classify(ast, serverVersionNum), ast };
}

/** Splits and classifies a migration file; throws PsqlMetaCommandError or SqlSyntaxError. */
export async function analyzeSql(
  text: string,
  options: { serverVersionNum?: number } = {},
): Promise<SqlAnalysis> {
  if (text.trim() === "") return { statements: [], ownTransaction: false, nonTransactional: [] };
  const { parseSync } = await loadParser();
  const toIndex = byteIndexer(text);
  const tokens = tryScan(text);
  if (tokens) rejectMetaCommands(text, tokens, toIndex);
  let parsed: ReturnType<Parser["parseSync"]>;
  try {
    parsed = parseSync(text);
  } catch (err) {
    throw syntaxError(text, err);
  }
  const src = {
    text,
    bytes: Buffer.byteLength(text),
    tokens: tokens ?? [],
    toIndex,
    position: lineIndex(text),
  };
  const statements: SqlStatement[] = [];
  for (const raw of parsed.stmts ?? []) {
    const ast = raw.stmt as Record<string, unknown> | undefined;
    if (ast)
      statements.push({ index: statements.length, ...locate(src, raw, ast, options.serverVersionNum) });
  }
  return {
    statements,
    ownTransaction: statements.some(
      (s) => s.transactionControl === "begin" || s.transactionControl === "commit",
    ),
    nonTransactional: statements.filter((s) => s.nonTransactional !== null),
  };
}
