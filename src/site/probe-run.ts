import type { ProductionSource } from "../prod/history.js";
import { ProductionReadError, quoteIdent, quoteQualified, type ReadQuery } from "../prod/read-only.js";
import { escapeLiteral } from "./prepare.js";
import type { ProbePlan } from "./probe-plans.js";
import type { TableName } from "./statement-work.js";

/**
 * What production's rows say about one probe. Only counts and primary-key values (at most three)
 * leave production; a failed probe is described by its SQLSTATE, never by the server's message (a
 * conversion error quotes the row's value).
 */
export type ProbeResult =
  | { status: "clean" }
  | { status: "violations"; count: number; keys: string[]; keyColumns: string[] }
  | { status: "cast_fails"; sqlstate: string }
  | { status: "absent" }
  | { status: "not_verified"; reason: string };

const qualified = (t: TableName) => quoteQualified(t.schema, t.name);

async function primaryKey(query: ReadQuery, oid: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = $1::oid AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [oid],
  );
  return rows.map((r) => r.name);
}

async function oidOf(query: ReadQuery, t: TableName): Promise<string | null> {
  const [row] = await query<{ oid: string | null }>("SELECT to_regclass($1)::oid::text AS oid", [
    qualified(t),
  ]);
  return row?.oid ?? null;
}

/** Count and first three keys of the rows of `from` (alias t) matching `predicate`. */
async function violations(query: ReadQuery, from: string, predicate: string | null, pk: string[]) {
  const where = predicate ? ` WHERE ${predicate}` : "";
  const key =
    pk.length === 1
      ? `t.${quoteIdent(pk[0]!)}::text`
      : `ROW(${pk.map((c) => `t.${quoteIdent(c)}`).join(", ")})::text`;
  const keys = pk.length
    ? `ARRAY(SELECT ${key} FROM ${from}${where} ORDER BY ${pk.map((c) => `t.${quoteIdent(c)}`).join(", ")} LIMIT 3)`
    : "ARRAY[]::text[]";
  const [row] = await query<{ n: string; keys: string[] }>(
    `SELECT (SELECT count(*) FROM ${from}${where})::text AS n, ${keys} AS keys`,
  );
  return result(Number(row?.n ?? 0), row?.keys ?? [], pk);
}

function result(count: number, keys: string[], pk: string[]): ProbeResult {
  return count > 0 ? { status: "violations", count, keys, keyColumns: pk } : { status: "clean" };
}

async function duplicates(
  query: ReadQuery,
  from: string,
  plan: Extract<ProbePlan, { kind: "unique" }>,
  pk: string[],
) {
  const filters = [
    ...(plan.nullsDistinct ? plan.keys.map((k) => `${k} IS NOT NULL`) : []),
    ...(plan.where ? [plan.where] : []),
  ];
  const where = filters.length ? ` WHERE ${filters.join(" AND ")}` : "";
  const pkCols = pk.map((c, i) => `t.${quoteIdent(c)} AS k${i}`);
  const key = pk.length === 1 ? "d.k0::text" : `ROW(${pk.map((_, i) => `d.k${i}`).join(", ")})::text`;
  const order = pk.map((_, i) => `d.k${i}`).join(", ");
  const [row] = await query<{ n: string; keys: string[] }>(
    `WITH d AS MATERIALIZED (
       SELECT ${[...pkCols, `count(*) OVER (PARTITION BY ${plan.keys.join(", ")}) AS c`].join(", ")} FROM ${from}${where})
     SELECT (SELECT count(*) FROM d WHERE c > 1)::text AS n,
            ${pk.length ? `ARRAY(SELECT ${key} FROM d WHERE c > 1 ORDER BY ${order} LIMIT 3)` : "ARRAY[]::text[]"} AS keys`,
  );
  return result(Number(row?.n ?? 0), row?.keys ?? [], pk);
}

async function orphans(
  query: ReadQuery,
  from: string,
  plan: Extract<ProbePlan, { kind: "foreign_key" }>,
  pk: string[],
) {
  const parentOid = await oidOf(query, plan.parent);
  if (!parentOid)
    return notVerified(`${plan.parent.name} does not exist in production yet (the branch creates it)`);
  const parentColumns = plan.parentColumns ?? (await primaryKey(query, parentOid));
  if (parentColumns.length !== plan.columns.length)
    return notVerified("the referenced columns could not be matched");
  const pairs = plan.columns.map((c, i) => `p.${quoteIdent(parentColumns[i]!)} = t.${quoteIdent(c)}`);
  const present = plan.columns.map((c) => `t.${quoteIdent(c)} IS NOT NULL`);
  const predicate = `${present.join(" AND ")} AND NOT EXISTS (SELECT 1 FROM ${qualified(plan.parent)} AS p WHERE ${pairs.join(" AND ")})`;
  return violations(query, from, predicate, pk);
}

async function conversions(
  query: ReadQuery,
  from: string,
  plan: Extract<ProbePlan, { kind: "cast" }>,
  pk: string[],
  oid: string,
  serverVersionNum: number,
) {
  const col = `t.${quoteIdent(plan.column)}`;
  if (plan.typmodLength !== null && plan.using === null)
    return violations(query, from, `pg_catalog.length(${col}::text) > ${plan.typmodLength}`, pk);
  const [source] = await query<{ category: string }>(
    `SELECT t.typcategory AS category FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::oid AND a.attname = $2 AND NOT a.attisdropped`,
    [oid, plan.column],
  );
  if (!source) return notVerified(`production has no column ${plan.column} yet`);
  if (plan.using === null && source.category === "S" && serverVersionNum >= 160000)
    return violations(
      query,
      from,
      `${col} IS NOT NULL AND NOT pg_catalog.pg_input_is_valid(${col}::text, ${escapeLiteral(plan.type)})`,
      pk,
    );
  try {
    await query(`SELECT count((${plan.using ?? col})::${plan.type}) FROM ${from}`);
    return { status: "clean" } as const;
  } catch (err) {
    // Inside the read the driver's own error: its SQLSTATE, never its message (it quotes the value).
    const code = (err as { code?: string }).code;
    if (code?.startsWith("22") || code?.startsWith("23"))
      return { status: "cast_fails", sqlstate: code } as const;
    throw err;
  }
}

const notVerified = (reason: string): ProbeResult => ({ status: "not_verified", reason });

/**
 * Runs one probe on production: a READ ONLY transaction with `timeoutMs` as its statement timeout.
 * A timeout is `not_verified`, as is a column or table production does not have yet.
 */
export async function runProbe(
  source: ProductionSource,
  plan: ProbePlan,
  options: { timeoutMs: number; serverVersionNum: number },
): Promise<ProbeResult> {
  if (plan.kind === "unverified") return notVerified(plan.reason);
  try {
    return await source.read(
      `probing ${plan.table.name} (${plan.what})`,
      async (query) => {
        const oid = await oidOf(query, plan.table);
        if (!oid) return { status: "absent" };
        const pk = await primaryKey(query, oid);
        const from = `${qualified(plan.table)} AS t`;
        switch (plan.kind) {
          case "rows":
            return violations(query, from, plan.predicate, pk);
          case "unique":
            return duplicates(query, from, plan, pk);
          case "foreign_key":
            return orphans(query, from, plan, pk);
          case "cast":
            return conversions(query, from, plan, pk, oid, options.serverVersionNum);
        }
      },
      { timeoutMs: options.timeoutMs },
    );
  } catch (err) {
    const code = err instanceof ProductionReadError ? err.sqlstate : null;
    if (code === "57014")
      return notVerified(`the probe timed out after ${options.timeoutMs} ms (prod.probe_timeout_ms)`);
    if (code === "42703") return notVerified("production has no such column yet (the branch adds it)");
    if (code === "42P01") return { status: "absent" };
    return notVerified(
      code ? `the probe failed on production [${code}]` : "the probe could not reach production",
    );
  }
}
