/**
 * Which statements validate rows production already has, and the probe that asks production whether
 * its rows pass — derived from the parse tree, never from the statement's text.
 */
import type { AlterTableCmd, ColumnDef, Constraint, IndexStmt, Node } from "libpg-query";
import type { PreparedFile } from "../dryrun/apply.js";
import { type AstBody, astKind } from "../dryrun/sql.js";
import { renderExpr, tryRenderType } from "./probe-expr.js";
import { type TableName, tableOf } from "./statement-work.js";

interface PlanBase {
  path: string;
  line: number;
  /** e.g. `SET NOT NULL`, `ADD FOREIGN KEY`. */
  what: string;
  table: TableName;
}

/**
 * rows: rows matching `predicate` (over alias `t`; null: every row) fail it;
 * unique: rows sharing `keys` with another row; cast: rows whose `column` does not convert.
 */
export type ProbePlan = PlanBase &
  (
    | { kind: "rows"; predicate: string | null; describe: string; fix: string }
    | { kind: "unique"; keys: string[]; where: string | null; nullsDistinct: boolean; describe: string }
    | {
        kind: "foreign_key";
        columns: string[];
        parent: TableName;
        parentColumns: string[] | null;
      }
    | { kind: "cast"; column: string; type: string; using: string | null; typmodLength: number | null }
    | { kind: "unverified"; reason: string }
  );

const NOT_NULL_FIX =
  "Backfill the NULLs first (an UPDATE in batches, in an earlier migration) or keep the column nullable; then ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, and SET NOT NULL.";
const CHECK_FIX =
  "Fix the rows first (an UPDATE in batches), then ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT in a later migration.";
const ADD_COLUMN_FIX =
  "Give the column a constant DEFAULT (no rewrite since PostgreSQL 11), or add it nullable, backfill it in batches, then SET NOT NULL.";

const key = (t: TableName) => (t.schema && t.schema !== "public" ? `${t.schema}.${t.name}` : t.name);
const label = (t: TableName) => key(t);
const names = (nodes: Node[] | undefined) =>
  (nodes ?? []).flatMap((n) => ("String" in n && n.String.sval ? [n.String.sval] : []));

/** What the branch did earlier to each table, as the plans walk its statements in order. */
interface Seen {
  created: Set<string>;
  /** Columns the branch added: whether each has a default that fills existing rows. */
  added: Map<string, Map<string, boolean>>;
  /** The first statement that changes a table's rows (UPDATE, DELETE, INSERT). */
  changed: Map<string, string>;
}

function hasDefault(def: ColumnDef): boolean {
  return (def.constraints ?? []).some(
    (c) =>
      "Constraint" in c &&
      ["CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"].includes(c.Constraint.contype ?? ""),
  );
}

function notNullColumn(def: ColumnDef): boolean {
  return (def.constraints ?? []).some(
    (c) => "Constraint" in c && ["CONSTR_NOTNULL", "CONSTR_PRIMARY"].includes(c.Constraint.contype ?? ""),
  );
}

function constraintPlans(base: PlanBase, c: Constraint): ProbePlan[] {
  if (c.skip_validation === true) return [];
  const t = base.table.name;
  const named = c.conname ? ` ${c.conname}` : "";
  switch (c.contype) {
    case "CONSTR_CHECK": {
      const e = renderExpr(c.raw_expr, t);
      if (!e.ok) return [{ ...base, what: "ADD CHECK", kind: "unverified", reason: e.reason }];
      return [
        {
          ...base,
          what: "ADD CHECK",
          kind: "rows",
          predicate: `(${e.sql}) IS FALSE`,
          describe: `violate CHECK${named}`,
          fix: CHECK_FIX,
        },
      ];
    }
    case "CONSTR_UNIQUE":
    case "CONSTR_PRIMARY": {
      if (c.indexname) return [];
      const cols = names(c.keys);
      const what = c.contype === "CONSTR_PRIMARY" ? "ADD PRIMARY KEY" : "ADD UNIQUE";
      const keys = cols.map((k) => `t."${k.replaceAll('"', '""')}"`);
      const plans: ProbePlan[] = [
        {
          ...base,
          what,
          kind: "unique",
          keys,
          where: null,
          nullsDistinct: !c.nulls_not_distinct,
          describe: `share ${cols.join(", ")} with another row`,
        },
      ];
      if (c.contype === "CONSTR_PRIMARY")
        plans.push({
          ...base,
          what,
          kind: "rows",
          predicate: keys.map((k) => `${k} IS NULL`).join(" OR "),
          describe: `have ${cols.join(" or ")} NULL`,
          fix: NOT_NULL_FIX,
        });
      return plans;
    }
    case "CONSTR_FOREIGN": {
      const parent = tableOf(c.pktable);
      if (!parent) return [];
      const pk = names(c.pk_attrs);
      return [
        {
          ...base,
          what: "ADD FOREIGN KEY",
          kind: "foreign_key",
          columns: names(c.fk_attrs),
          parent,
          parentColumns: pk.length ? pk : null,
        },
      ];
    }
    default:
      return [];
  }
}

function alterPlans(base: PlanBase, cmd: AlterTableCmd, seen: Seen): ProbePlan[] {
  const added = seen.added.get(key(base.table));
  if (cmd.subtype === "AT_SetNotNull" && cmd.name) {
    const col = cmd.name;
    const filled = added?.get(col);
    if (filled === true) return [];
    const predicate = filled === false ? null : `t."${col.replaceAll('"', '""')}" IS NULL`;
    return [
      {
        ...base,
        what: "SET NOT NULL",
        kind: "rows",
        predicate,
        describe: `have ${col} NULL`,
        fix: NOT_NULL_FIX,
      },
    ];
  }
  if (cmd.subtype === "AT_AddColumn" && cmd.def && "ColumnDef" in cmd.def) {
    const def = cmd.def.ColumnDef;
    if (!def.colname) return [];
    const filled = hasDefault(def);
    const map = added ?? new Map<string, boolean>();
    map.set(def.colname, filled);
    seen.added.set(key(base.table), map);
    if (filled || !notNullColumn(def)) return [];
    return [
      {
        ...base,
        what: "ADD COLUMN … NOT NULL",
        kind: "rows",
        predicate: null,
        describe: `would have ${def.colname} NULL (ADD COLUMN … NOT NULL without a default)`,
        fix: ADD_COLUMN_FIX,
      },
    ];
  }
  if (cmd.subtype === "AT_AddConstraint" && cmd.def && "Constraint" in cmd.def)
    return constraintPlans(base, cmd.def.Constraint);
  if (cmd.subtype === "AT_AlterColumnType" && cmd.name && cmd.def && "ColumnDef" in cmd.def)
    return [castPlan(base, cmd.name, cmd.def.ColumnDef)];
  return [];
}

function castPlan(base: PlanBase, column: string, def: ColumnDef): ProbePlan {
  const what = "ALTER COLUMN … TYPE";
  const type = tryRenderType(def.typeName);
  if (!type.ok) return { ...base, what, kind: "unverified", reason: type.reason };
  let using: string | null = null;
  if (def.raw_default) {
    const e = renderExpr(def.raw_default, base.table.name);
    if (!e.ok) return { ...base, what, kind: "unverified", reason: e.reason };
    using = e.sql;
  }
  const last = def.typeName?.names?.at(-1);
  const typeName = last && "String" in last ? last.String.sval : "";
  const mod = def.typeName?.typmods?.[0];
  const length =
    ["varchar", "bpchar"].includes(typeName ?? "") && mod && "A_Const" in mod
      ? (mod.A_Const.ival?.ival ?? null)
      : null;
  return { ...base, what, kind: "cast", column, type: type.sql, using, typmodLength: length };
}

function indexPlans(base: PlanBase, s: IndexStmt): ProbePlan[] {
  if (!s.unique) return [];
  const what = "CREATE UNIQUE INDEX";
  const keys: string[] = [];
  const shown: string[] = [];
  for (const p of s.indexParams ?? []) {
    if (!("IndexElem" in p)) continue;
    const el = p.IndexElem;
    if (el.name) {
      keys.push(`t."${el.name.replaceAll('"', '""')}"`);
      shown.push(el.name);
      continue;
    }
    const e = renderExpr(el.expr, base.table.name);
    if (!e.ok) return [{ ...base, what, kind: "unverified", reason: e.reason }];
    keys.push(e.sql);
    shown.push("an expression");
  }
  let where: string | null = null;
  if (s.whereClause) {
    const e = renderExpr(s.whereClause, base.table.name);
    if (!e.ok) return [{ ...base, what, kind: "unverified", reason: e.reason }];
    where = e.sql;
  }
  const describe = `share ${shown.join(", ")} with another row`;
  return [{ ...base, what, kind: "unique", keys, where, nullsDistinct: !s.nulls_not_distinct, describe }];
}

const CHANGES_ROWS = new Set(["UpdateStmt", "DeleteStmt", "InsertStmt"]);

/**
 * The probes of the branch's files, statement by statement in order. A table the branch creates has
 * no rows in production (nothing to probe); after a statement that changes a table's rows (a backfill),
 * production's rows no longer tell, so later validations of it are not verified.
 */
export function probePlans(files: PreparedFile[]): ProbePlan[] {
  const seen: Seen = { created: new Set(), added: new Map(), changed: new Map() };
  const out: ProbePlan[] = [];
  for (const file of files) {
    for (const st of file.analysis.statements) {
      const kind = astKind(st.ast);
      const body = st.ast[kind] as Record<string, unknown>;
      const table = tableOf((body as { relation?: Parameters<typeof tableOf>[0] }).relation);
      if (!table) continue;
      const where = `${file.path.split("/").at(-1)}:${st.line}`;
      if (kind === "CreateStmt") seen.created.add(key(table));
      if (CHANGES_ROWS.has(kind)) {
        if (!seen.changed.has(key(table)))
          seen.changed.set(key(table), `${kind.replace("Stmt", "").toUpperCase()} at ${where}`);
        continue;
      }
      if (seen.created.has(key(table))) continue;
      const base = { path: file.path, line: st.line, what: "", table };
      let plans: ProbePlan[] = [];
      if (kind === "AlterTableStmt")
        plans = ((body as AstBody<"AlterTableStmt">).cmds ?? []).flatMap((n) =>
          "AlterTableCmd" in n ? alterPlans(base, n.AlterTableCmd, seen) : [],
        );
      else if (kind === "IndexStmt") plans = indexPlans(base, body as IndexStmt);
      const changed = seen.changed.get(key(table));
      for (const p of plans)
        out.push(
          changed && p.kind !== "unverified"
            ? {
                ...base,
                what: p.what,
                kind: "unverified",
                reason: `an earlier statement (${changed}) changes ${label(table)}'s rows first; production's rows as they are now do not tell`,
              }
            : p,
        );
    }
  }
  return out;
}
