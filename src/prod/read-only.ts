import type pg from "pg";
import { errorMessage, ProductionError } from "../errors.js";

/** One read on production: rows of `sql` with `params` ($1, …), inside the read-only transaction. */
export type ReadQuery = <R extends Record<string, unknown> = Record<string, unknown>>(
  sql: string,
  params?: unknown[],
) => Promise<R[]>;

/** A read that failed on the server: the SQLSTATE says what (57014 is the statement timeout). */
export class ProductionReadError extends ProductionError {
  readonly sqlstate: string | null;
  constructor(what: string, cause: unknown) {
    super(`${what} failed: ${errorMessage(cause)}`, {
      hint: "Check the read-only role's grants and prod.statement_timeout_ms.",
      cause,
    });
    this.sqlstate = (cause as { code?: string }).code ?? null;
  }
}

export interface ReadOnlyOptions {
  dsn: string;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/** Production behind one door: every read is a READ ONLY transaction with a statement timeout. */
export interface ReadOnlyPool {
  /**
   * Runs `fn` on a pooled connection inside `BEGIN TRANSACTION READ ONLY` with `SET LOCAL
   * statement_timeout` (the pool's, or `timeoutMs`), then rolls back. Nothing else reaches the server.
   */
  read<T>(what: string, fn: (query: ReadQuery) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  close(): Promise<void>;
}

export function createReadOnlyPool(options: ReadOnlyOptions): ReadOnlyPool {
  // The driver loads on the first read: importing this module costs nothing.
  let pooled: Promise<pg.Pool> | null = null;
  const getPool = () => {
    pooled ??= import("pg").then(({ default: driver }) => {
      const pool = new driver.Pool({
        connectionString: options.dsn,
        max: 2,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: options.connectTimeoutMs,
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
  return {
    async read(what, fn, { timeoutMs = options.statementTimeoutMs } = {}) {
      let client: pg.PoolClient;
      try {
        client = await (await getPool()).connect();
      } catch (err) {
        throw new ProductionError(`production is unreachable: ${errorMessage(err) || "connection failed"}`, {
          hint: "Check prod.dsn and the network; reservations proceed from git and leases meanwhile.",
          cause: err,
        });
      }
      // The driver's own timer backs the server's: a hung connection still ends the read.
      const query: ReadQuery = async <R>(sql: string, params?: unknown[]) => {
        const config = { text: sql, values: params ?? [], query_timeout: timeoutMs + 1000 };
        return (await client.query(config as pg.QueryConfig)).rows as R[];
      };
      try {
        await client.query("BEGIN TRANSACTION READ ONLY");
        await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        const result = await fn(query);
        await client.query("ROLLBACK");
        client.release();
        return result;
      } catch (err) {
        client.release(true);
        if (err instanceof ProductionError) throw err;
        throw new ProductionReadError(what, err);
      }
    },
    async close() {
      if (pooled) await (await pooled).end();
    },
  };
}

/** A PostgreSQL identifier, quoted: `users` → `"users"`, `a"b` → `"a""b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` (schema optional), each part quoted. */
export function quoteQualified(schema: string | null, name: string): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
}
