import type { HistoryFormat } from "../config/schema.js";
import { ProductionError } from "../errors.js";
import { createReadOnlyPool, ProductionReadError, type ReadOnlyPool, type ReadQuery } from "./read-only.js";

/** One applied migration as production's migrator recorded it. */
export interface HistoryRow {
  version: number;
  /** Null where the format stores no names (golang-migrate, goose). */
  name: string | null;
}

export interface ProdHistory {
  format: HistoryFormat;
  table: string;
  rows: HistoryRow[];
  /** False where the format stores no names: name checks are skipped and the answer says so. */
  namesKnown: boolean;
  maxVersion: number | null;
  /** golang-migrate's dirty flag: the last migration failed half-way and the app refuses to start. */
  dirty: boolean;
}

/**
 * Production behind an interface: services read its history, its statistics and (probes) its rows,
 * always through `read` (a READ ONLY transaction with a statement timeout); nothing ever writes to it.
 */
export interface ProductionSource extends Pick<ReadOnlyPool, "read"> {
  readHistory(): Promise<ProdHistory>;
  /** `server_version_num`, e.g. 150020 (to check pg_dump against it). */
  serverVersionNum(): Promise<number>;
  close(): Promise<void>;
}

export interface PgProductionOptions {
  dsn: string;
  format: HistoryFormat;
  table?: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

const DEFAULT_TABLES: Record<HistoryFormat, string> = {
  rows: "applied_migrations",
  "golang-migrate": "schema_migrations",
  goose: "goose_db_version",
  flyway: "flyway_schema_history",
};

/** `schema.table` → a safely quoted identifier; anything else is refused. */
export function quoteTable(table: string): string {
  const parts = table.split(".");
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p))) {
    throw new ProductionError(`history table "${table}" is not a plain [schema.]table name`, {
      hint: "Set migrations.history_table to e.g. paliad.applied_migrations.",
    });
  }
  // Each part matched the plain-identifier pattern: quoting it is only doubling quotes, of which it has none.
  return parts.map((p) => `"${p.replaceAll('"', '""')}"`).join(".");
}

/**
 * Reads production's migration history over a pooled connection, always inside a
 * `READ ONLY` transaction with a statement timeout, then rolls back.
 */
export function createPgProduction(options: PgProductionOptions): ProductionSource {
  const table = options.table ?? DEFAULT_TABLES[options.format];
  const quoted = quoteTable(table);
  const pool = createReadOnlyPool(options);
  return {
    read: (what, fn, readOptions) => pool.read(what, fn, readOptions),
    readHistory: () =>
      pool
        .read(`reading production's history (${table})`, async (query) =>
          toHistory(options.format, table, await queryHistory(query, options.format, quoted)),
        )
        .catch((err: unknown) => {
          if (err instanceof ProductionReadError && err.sqlstate === "42P01") {
            throw new ProductionError(`production has no history table ${table}`, {
              hint: "Set migrations.history_table (and history_format) to the table the app's migrator writes.",
              cause: err.cause,
            });
          }
          throw err;
        }),
    serverVersionNum: () =>
      pool.read("reading production's server version", async (query) => {
        const rows = await query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
        return Number(rows[0]?.v);
      }),
    close: () => pool.close(),
  };
}

type Raw = { version: string | null; name: string | null; flag: boolean | null };

async function queryHistory(query: ReadQuery, format: HistoryFormat, table: string): Promise<Raw[]> {
  const sql: Record<HistoryFormat, string> = {
    rows: `SELECT version::text AS version, name::text AS name, NULL::boolean AS flag FROM ${table}`,
    "golang-migrate": `SELECT version::text AS version, NULL::text AS name, dirty AS flag FROM ${table} LIMIT 1`,
    goose: `SELECT version_id::text AS version, NULL::text AS name, is_applied AS flag FROM ${table} ORDER BY id`,
    flyway: `SELECT version::text AS version, description::text AS name, success AS flag FROM ${table} WHERE version IS NOT NULL ORDER BY installed_rank`,
  };
  return query<Raw>(sql[format]);
}

function toHistory(format: HistoryFormat, table: string, raw: Raw[]): ProdHistory {
  let rows: HistoryRow[] = [];
  let dirty = false;
  if (format === "goose") {
    const applied = new Map<number, boolean>();
    for (const r of raw) applied.set(parseVersion(r.version), r.flag === true);
    applied.delete(0);
    rows = [...applied].filter(([, on]) => on).map(([version]) => ({ version, name: null }));
  } else if (format === "golang-migrate") {
    const first = raw[0];
    if (first) {
      rows = [{ version: parseVersion(first.version), name: null }];
      dirty = first.flag === true;
    }
  } else {
    rows = raw
      .filter((r) => format !== "flyway" || r.flag !== false)
      .map((r) => ({ version: parseVersion(r.version), name: r.name }));
  }
  rows.sort((a, b) => a.version - b.version);
  return {
    format,
    table,
    rows,
    namesKnown: format === "rows" || format === "flyway",
    maxVersion: rows.length > 0 ? rows[rows.length - 1]!.version : null,
    dirty,
  };
}

function parseVersion(text: string | null): number {
  const digits = (text ?? "").replace(/^[^\d]*/, "").replace(/\./g, "");
  const n = Number(digits);
  if (!digits || !Number.isSafeInteger(n)) throw new Error(`unreadable version ${JSON.stringify(text)}`);
  return n;
}

/** Names compare as the migrator records them: flyway stores "add users" for `V2__add_users.sql`. */
export function sameMigrationName(a: string, b: string): boolean {
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/[_\s]+/g, " ")
      .trim();
  return norm(a) === norm(b);
}

/** Whether production has applied `version` (golang-migrate records only the current version). */
export function appliedVersions(history: ProdHistory): (version: number) => boolean {
  if (history.format === "golang-migrate") {
    const max = history.maxVersion;
    return (version) => max !== null && version <= max;
  }
  const set = new Set(history.rows.map((r) => r.version));
  return (version) => set.has(version);
}
