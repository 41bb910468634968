import type pg from "pg";
import type { HistoryFormat } from "../config/schema.js";
import { errorMessage, ProductionError } from "../errors.js";

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

/** Production behind an interface: services read its history; nothing ever writes to it. */
export interface ProductionSource {
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
  // The driver loads on the first read: importing this module (for its pure helpers) costs nothing.
  let pooled: Promise<pg.Pool> | null = null;
  const getPool = () => {
    pooled ??= import("pg").then(({ default: driver }) => {
      const pool = new driver.Pool({
        connectionString: options.dsn,
        max: 2,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: options.statementTimeoutMs + 1000,
        allowExitOnIdle: true,
        application_name: "mai-gate",
      });
      pool.on("error", () => {
        /* an idle connection dropped: the next read reconnects */
      });
      return pool;
    });
    return pooled;
  };
  /** Runs `fn` on a pooled connection inside `BEGIN READ ONLY` with a statement timeout, then rolls back. */
  const readOnly = async <T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await (await getPool()).connect();
    } catch (err) {
      throw new ProductionError(`production is unreachable: ${errorMessage(err) || "connection failed"}`, {
        hint: "Check prod.dsn and the network; reservations proceed from git and leases meanwhile.",
        cause: err,
      });
    }
    try {
      await client.query("BEGIN TRANSACTION READ ONLY");
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(options.statementTimeoutMs)}`);
      const result = await fn(client);
      await client.query("ROLLBACK");
      client.release();
      return result;
    } catch (err) {
      client.release(true);
      const code = (err as { code?: string }).code;
      if (code === "42P01") {
        throw new ProductionError(`production has no history table ${table}`, {
          hint: "Set migrations.history_table (and history_format) to the table the app's migrator writes.",
          cause: err,
        });
      }
      throw new ProductionError(`${what} failed: ${errorMessage(err)}`, {
        hint: "Check the read-only role's grants and prod.statement_timeout_ms.",
        cause: err,
      });
    }
  };
  return {
    readHistory: () =>
      readOnly(`reading production's history (${table})`, async (client) =>
        toHistory(options.format, table, await queryHistory(client, options.format, quoted)),
      ),
    serverVersionNum: () =>
      readOnly("reading production's server version", async (client) => {
        const r = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
        return Number(r.rows[0]?.v);
      }),
    async close() {
      if (pooled) await (await pooled).end();
    },
  };
}

type Raw = { version: string | null; name: string | null; flag: boolean | null };

async function queryHistory(client: pg.PoolClient, format: HistoryFormat, table: string): Promise<Raw[]> {
  const sql: Record<HistoryFormat, string> = {
    rows: `SELECT version::text AS version, name::text AS name, NULL::boolean AS flag FROM ${table}`,
    "golang-migrate": `SELECT version::text AS version, NULL::text AS name, dirty AS flag FROM ${table} LIMIT 1`,
    goose: `SELECT version_id::text AS version, NULL::text AS name, is_applied AS flag FROM ${table} ORDER BY id`,
    flyway: `SELECT version::text AS version, description::text AS name, success AS flag FROM ${table} WHERE version IS NOT NULL ORDER BY installed_rank`,
  };
  const result = await client.query<Raw>(sql[format]);
  return result.rows;
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
