/**
 * The branch's expressions (a CHECK, an index key or predicate, a USING cast) as mai-gate renders
 * them for a probe on production: rebuilt from the parse tree, node by node, from a short list of
 * node kinds — column references of the probed table, constants, casts, operators, boolean logic and
 * a few built-in functions (schema-qualified to pg_catalog). Anything else is refused, so no text of
 * the branch reaches production and no function it names runs there.
 */
import type { A_Const, Node, TypeName } from "libpg-query";
import { quoteIdent } from "../prod/read-only.js";
import { escapeLiteral } from "./prepare.js";

export type Rendered = { ok: true; sql: string; columns: string[] } | { ok: false; reason: string };

/** Built-in functions a probe may call: deterministic, without side effects, cheap. */
const FUNCTIONS = new Set([
  "lower",
  "upper",
  "length",
  "char_length",
  "character_length",
  "octet_length",
  "btrim",
  "ltrim",
  "rtrim",
  "substring",
  "substr",
  "left",
  "right",
  "replace",
  "strpos",
  "position",
  "starts_with",
  "lpad",
  "rpad",
  "abs",
  "round",
  "trunc",
  "floor",
  "ceil",
  "ceiling",
  "sign",
  "mod",
  "date_trunc",
  "date_part",
  "extract",
  "now",
  "array_length",
  "cardinality",
  "jsonb_typeof",
  "json_typeof",
  "jsonb_array_length",
]);

const OPERATORS = new Set([
  "=",
  "<>",
  "!=",
  "<",
  ">",
  "<=",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "||",
  "~",
  "~*",
  "!~",
  "!~*",
  "~~",
  "!~~",
  "~~*",
  "!~~*",
  "@>",
  "<@",
  "&&",
  "?",
]);

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

class Refused extends Error {}

interface Ctx {
  alias: string;
  table: string;
  columns: Set<string>;
  nodes: number;
}

const str = (n: Node | undefined): string | null => (n && "String" in n ? (n.String.sval ?? null) : null);

/** `expr` over the table `table` (aliased `alias` in the probe), or why it is not evaluated. */
export function renderExpr(expr: Node | undefined, table: string, alias = "t"): Rendered {
  const ctx: Ctx = { alias, table, columns: new Set(), nodes: 0 };
  try {
    if (!expr) throw new Refused("an empty expression");
    return { ok: true, sql: render(expr, ctx, 0), columns: [...ctx.columns] };
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    return {
      ok: false,
      reason: `the expression uses ${err.message}, which mai-gate does not evaluate on production`,
    };
  }
}

/** A type name as `"schema"."name"(typmods)[]`; refuses `%TYPE` and `SETOF`. */
export function renderType(t: TypeName | undefined): string {
  if (!t?.names?.length || t.pct_type || t.setof) throw new Refused("an unusual type name");
  const name = t.names.map((n) => {
    const s = str(n);
    if (s === null) throw new Refused("an unusual type name");
    return quoteIdent(s);
  });
  const mods = (t.typmods ?? []).map((m) => {
    const v = "A_Const" in m ? m.A_Const.ival : undefined;
    if (!v) throw new Refused("a type modifier that is not a number");
    return String(v.ival ?? 0);
  });
  const bounds = "[]".repeat(t.arrayBounds?.length ?? 0);
  return `${name.join(".")}${mods.length ? `(${mods.join(", ")})` : ""}${bounds}`;
}

/** `renderType` as a value: the reason when refused. */
export function tryRenderType(
  t: TypeName | undefined,
): { ok: true; sql: string } | { ok: false; reason: string } {
  try {
    return { ok: true, sql: renderType(t) };
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    return { ok: false, reason: `the type uses ${err.message}` };
  }
}

function constant(c: A_Const): string {
  if (c.isnull) return "NULL";
  if (c.ival) return String(c.ival.ival ?? 0);
  if (c.fval) {
    const v = c.fval.fval ?? "";
    if (!NUMBER.test(v)) throw new Refused("an unusual number");
    return v;
  }
  if (c.sval) return escapeLiteral(c.sval.sval ?? "");
  if (c.boolval) return c.boolval.boolval ? "true" : "false";
  if (c.bsval) throw new Refused("a bit string");
  return "0";
}

function column(fields: Node[] | undefined, ctx: Ctx): string {
  const names = (fields ?? []).map((f) => {
    const s = str(f);
    if (s === null) throw new Refused("a * or an unusual column reference");
    return s;
  });
  const col = names.at(-1);
  if (!col || names.length > 2 || (names.length === 2 && names[0] !== ctx.table))
    throw new Refused(`a column of another table (${names.join(".")})`);
  ctx.columns.add(col);
  return `${ctx.alias}.${quoteIdent(col)}`;
}

function operator(name: Node[] | undefined): string {
  const op = name?.length === 1 ? str(name[0]) : null;
  if (!op || !OPERATORS.has(op)) throw new Refused(`the operator ${op ?? "(qualified)"}`);
  return op;
}

function render(node: Node, ctx: Ctx, depth: number): string {
  if (++ctx.nodes > 300 || depth > 30) throw new Refused("too large an expression");
  const r = (n: Node | undefined) => {
    if (!n) throw new Refused("an empty operand");
    return render(n, ctx, depth + 1);
  };
  const list = (n: Node | undefined) => {
    if (!n || !("List" in n)) throw new Refused("an unusual list");
    return (n.List.items ?? []).map(r);
  };
  if ("ColumnRef" in node) return column(node.ColumnRef.fields, ctx);
  if ("A_Const" in node) return constant(node.A_Const);
  if ("TypeCast" in node) return `(${r(node.TypeCast.arg)})::${renderType(node.TypeCast.typeName)}`;
  if ("BoolExpr" in node) {
    const args = (node.BoolExpr.args ?? []).map(r);
    if (node.BoolExpr.boolop === "NOT_EXPR") return `(NOT ${args[0]})`;
    return `(${args.join(node.BoolExpr.boolop === "OR_EXPR" ? " OR " : " AND ")})`;
  }
  if ("NullTest" in node)
    return `(${r(node.NullTest.arg)} IS ${node.NullTest.nulltesttype === "IS_NOT_NULL" ? "NOT " : ""}NULL)`;
  if ("BooleanTest" in node) {
    const test = (node.BooleanTest.booltesttype ?? "IS_TRUE").replace(/^IS_/, "").replaceAll("_", " ");
    return `(${r(node.BooleanTest.arg)} IS ${test})`;
  }
  if ("CoalesceExpr" in node) return `COALESCE(${(node.CoalesceExpr.args ?? []).map(r).join(", ")})`;
  if ("MinMaxExpr" in node)
    return `${node.MinMaxExpr.op === "IS_LEAST" ? "LEAST" : "GREATEST"}(${(node.MinMaxExpr.args ?? []).map(r).join(", ")})`;
  if ("A_ArrayExpr" in node) return `ARRAY[${(node.A_ArrayExpr.elements ?? []).map(r).join(", ")}]`;
  if ("CaseExpr" in node) {
    const c = node.CaseExpr;
    const whens = (c.args ?? []).map((w) => {
      if (!("CaseWhen" in w)) throw new Refused("an unusual CASE");
      return `WHEN ${r(w.CaseWhen.expr)} THEN ${r(w.CaseWhen.result)}`;
    });
    const base = c.arg ? ` ${r(c.arg)}` : "";
    return `(CASE${base} ${whens.join(" ")}${c.defresult ? ` ELSE ${r(c.defresult)}` : ""} END)`;
  }
  if ("FuncCall" in node) {
    const f = node.FuncCall;
    const names = (f.funcname ?? []).map(str);
    const name = names.at(-1);
    const qualified = names.length === 2 && names[0] === "pg_catalog";
    if (!name || (names.length !== 1 && !qualified) || !FUNCTIONS.has(name))
      throw new Refused(`the function ${names.join(".")}`);
    if (f.agg_star || f.agg_distinct || f.over || f.agg_filter || f.agg_order || f.func_variadic)
      throw new Refused(`${name} as an aggregate, window or variadic call`);
    return `pg_catalog.${quoteIdent(name)}(${(f.args ?? []).map(r).join(", ")})`;
  }
  if ("A_Expr" in node) return aExpr(node.A_Expr, r, list);
  const kind = Object.keys(node)[0] ?? "?";
  throw new Refused(kind === "SubLink" ? "a subquery" : `a ${kind}`);
}

type A = Extract<Node, { A_Expr: unknown }>["A_Expr"];

function aExpr(e: A, r: (n: Node | undefined) => string, list: (n: Node | undefined) => string[]): string {
  const l = () => r(e.lexpr);
  switch (e.kind) {
    case "AEXPR_OP":
      return e.lexpr ? `(${l()} ${operator(e.name)} ${r(e.rexpr)})` : `(${operator(e.name)} ${r(e.rexpr)})`;
    case "AEXPR_OP_ANY":
    case "AEXPR_OP_ALL":
      return `(${l()} ${operator(e.name)} ${e.kind === "AEXPR_OP_ANY" ? "ANY" : "ALL"} (${r(e.rexpr)}))`;
    case "AEXPR_DISTINCT":
      return `(${l()} IS DISTINCT FROM ${r(e.rexpr)})`;
    case "AEXPR_NOT_DISTINCT":
      return `(${l()} IS NOT DISTINCT FROM ${r(e.rexpr)})`;
    case "AEXPR_NULLIF":
      return `NULLIF(${l()}, ${r(e.rexpr)})`;
    case "AEXPR_IN":
      return `(${l()} ${operator(e.name) === "=" ? "IN" : "NOT IN"} (${list(e.rexpr).join(", ")}))`;
    case "AEXPR_LIKE":
    case "AEXPR_ILIKE":
      return `(${l()} ${operator(e.name)} ${r(e.rexpr)})`;
    case "AEXPR_BETWEEN":
    case "AEXPR_NOT_BETWEEN":
    case "AEXPR_BETWEEN_SYM":
    case "AEXPR_NOT_BETWEEN_SYM": {
      const [lo, hi] = list(e.rexpr);
      const not = e.kind.includes("NOT") ? "NOT " : "";
      const sym = e.kind.endsWith("SYM") ? "SYMMETRIC " : "";
      return `(${l()} ${not}BETWEEN ${sym}${lo} AND ${hi})`;
    }
    default:
      throw new Refused(
        `the ${String(e.kind ?? "?")
          .replace("AEXPR_", "")
          .toLowerCase()} form`,
      );
  }
}
