import type { ProductionSource } from "./history.js";

/** A table's size in production, from the planner's statistics (`pg_class`), never from its rows. */
export interface TableSize {
  /** `schema.table`, as the clone named it. */
  table: string;
  /** `reltuples`: null when the table was never analysed (or vacuumed). */
  rows: number | null;
  bytes: number;
}

/**
 * The size of each `schema.table` in production (read-only; `pg_class.reltuples` and `relpages`
 * times the block size). Tables production does not have are absent from the answer.
 */
export async function readTableSizes(source: ProductionSource, tables: string[]): Promise<TableSize[]> {
  if (tables.length === 0) return [];
  const parts = tables.map((t) => {
    const dot = t.indexOf(".");
    return dot < 0 ? ["public", t] : [t.slice(0, dot), t.slice(dot + 1)];
  });
  const rows = await source.read("reading production's table sizes", (query) =>
    query<{ schema: string; name: string; reltuples: number; relpages: number; block: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.reltuples::float8 AS reltuples, c.relpages::float8 AS relpages,
              current_setting('block_size') AS block
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN unnest($1::text[], $2::text[]) AS w(schema, name) ON w.schema = n.nspname AND w.name = c.relname
        WHERE c.relkind IN ('r', 'p', 'm')`,
      [parts.map((p) => p[0]), parts.map((p) => p[1])],
    ),
  );
  return rows.map((r) => ({
    table: `${r.schema}.${r.name}`,
    rows: r.reltuples < 0 || (r.reltuples === 0 && r.relpages > 0) ? null : Math.round(r.reltuples),
    bytes: Math.round(r.relpages * Number(r.block)),
  }));
}
