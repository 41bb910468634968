/**
 * Which of the live app's queries a migration can break at all. Parse analysis (what PREPARE does)
 * resolves only the names a query spells — its tables, columns, functions, types, operators — so a
 * query that names nothing the branch's statements name prepares after them exactly as before. Only
 * those that do are prepared; a statement whose reach no name bounds (CASCADE, a schema rename, DO,
 * CALL, SET search_path, …) makes every query relevant.
 */
import type { PreparedFile } from "../dryrun/apply.js";
import { astKind } from "../dryrun/sql.js";

/** Built-in types: a migration cannot change what they resolve to (pg_catalog is searched first). */
const BUILTIN_TYPES = new Set(
  "bool int2 int4 int8 text varchar bpchar numeric float4 float8 timestamp timestamptz date time timetz interval uuid json jsonb bytea inet cidr".split(
    " ",
  ),
);

function builtinType(value: unknown): boolean {
  const names = (value as { names?: { String?: { sval?: string } }[] }).names ?? [];
  const first = names[0]?.String?.sval;
  const last = names.at(-1)?.String?.sval;
  return first === "pg_catalog" || (names.length === 1 && BUILTIN_TYPES.has(last ?? ""));
}

/**
 * Parts of a statement that name no object it changes: expressions (a CHECK's columns and functions,
 * an index's keys, a default), a view's query, the columns of a constraint. A column is changed under
 * its table, whose name a query that uses the column spells too.
 */
const NOT_CHANGED = new Set([
  "A_Const",
  "ColumnRef",
  "FuncCall",
  "raw_expr",
  "cooked_expr",
  "raw_default",
  "whereClause",
  "indexParams",
  "keys",
  "fk_attrs",
  "pk_attrs",
  "including",
  "query",
  "options",
]);

/** Statements that change rows, not what names resolve to: they cannot break a PREPARE. */
const ROWS_ONLY = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "TransactionStmt", "VariableSetStmt"]);

/**
 * Every identifier a parse tree spells (`String` nodes, relation names, new names), not its string
 * constants nor built-in types.
 */
export function namesIn(
  node: unknown,
  out = new Set<string>(),
  skip: ReadonlySet<string> = SKIP_CONSTANTS,
): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) namesIn(n, out, skip);
  } else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (skip.has(key)) continue;
      if ((key === "relname" || key === "newname") && typeof value === "string") {
        out.add(value);
        continue;
      }
      if (key === "TypeName" || key === "typeName") {
        if (value && typeof value === "object" && builtinType(value)) continue;
      }
      if (key === "String" && value && typeof value === "object") {
        const s = (value as { sval?: string }).sval;
        if (s) out.add(s);
        continue;
      }
      namesIn(value, out, skip);
    }
  }
  return out;
}

const SKIP_CONSTANTS: ReadonlySet<string> = new Set(["A_Const"]);

/** Statement kinds whose effect on name resolution is bounded by the names they spell. */
const SCOPED = new Set([
  "AlterTableStmt",
  "IndexStmt",
  "CreateStmt",
  "DropStmt",
  "RenameStmt",
  "CommentStmt",
  "GrantStmt",
  "CreateSeqStmt",
  "AlterSeqStmt",
  "ViewStmt",
  "CreateEnumStmt",
  "AlterEnumStmt",
  "CompositeTypeStmt",
  "CreateDomainStmt",
  "AlterDomainStmt",
  "CreateFunctionStmt",
  "CreateTrigStmt",
  "CreateTableAsStmt",
  "AlterObjectSchemaStmt",
  "InsertStmt",
  "UpdateStmt",
  "DeleteStmt",
  "TransactionStmt",
  "VacuumStmt",
  "ClusterStmt",
  "ReindexStmt",
]);

/** Settings a migration may SET without changing what a name resolves to. */
const HARMLESS_SETTINGS = new Set([
  "lock_timeout",
  "statement_timeout",
  "idle_in_transaction_session_timeout",
]);

function unbounded(ast: Record<string, unknown>): boolean {
  const kind = astKind(ast);
  const body = ast[kind] as Record<string, unknown>;
  if (kind === "VariableSetStmt") return !HARMLESS_SETTINGS.has(String(body.name ?? ""));
  if (!SCOPED.has(kind)) return true;
  if (JSON.stringify(body).includes('"DROP_CASCADE"')) return true;
  if (kind === "DropStmt" && body.removeType === "OBJECT_SCHEMA") return true;
  if (kind === "RenameStmt" && body.renameType === "OBJECT_SCHEMA") return true;
  return false;
}

/** The names the branch's statements spell, or "all" when one of them reaches further. */
export function branchScope(files: PreparedFile[]): Set<string> | "all" {
  const names = new Set<string>();
  for (const f of files) {
    for (const st of f.analysis.statements) {
      if (unbounded(st.ast)) return "all";
      if (!ROWS_ONLY.has(astKind(st.ast))) namesIn(st.ast, names, NOT_CHANGED);
    }
  }
  return names;
}

/** Whether a query spelling `names` may break under `scope`. */
export function inScope(names: ReadonlySet<string>, scope: Set<string> | "all"): boolean {
  if (scope === "all") return true;
  for (const n of names) if (scope.has(n)) return true;
  return false;
}
