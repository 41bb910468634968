import pg from "pg";
import { errorMessage, StateError } from "../errors.js";
import type { Logger } from "../log.js";
import type { EventInput } from "./types.js";

/** Runs one statement and answers its rows; a database failure comes back as a `StateError`. */
export type Query = <R = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>;

/** Transaction-scoped advisory lock keys: "mai-gate" in ASCII as an int8, and the next one. */
export const ALLOCATION_LOCK = "7881696466603963493";
export const SCHEMA_LOCK = "7881696466603963494";

/** Like SQLite's busy timeout: a lock held this long by someone else becomes an error, not a hang. */
const LOCK_TIMEOUT_MS = 15_000;
/** A holder that stops talking mid-transaction (frozen process, lost network) loses its locks. */
const IDLE_IN_TRANSACTION_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5_000;

const RETRY_HINT = "Retry the call; if it keeps failing, run `mai-gate leases` to inspect the state.";
const PRIVILEGE_HINT =
  "Grant the state role CREATE on the database for the first open (it creates schema mai_gate), then rights on mai_gate.";
const REACH_HINT =
  "Check that the PostgreSQL server named by `state` (or MAI_GATE_STATE) is up and reachable, then retry.";

/**
 * `bigint` columns (ms timestamps, versions) as JS numbers, and `json` columns as their text, parsed
 * by the store itself so a JSON `null` stays apart from SQL NULL, as in SQLite.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: (id, format) => {
    if (id === pg.types.builtins.INT8) return (value: string) => Number(value);
    if (id === pg.types.builtins.JSON) return (value: string) => value;
    return pg.types.getTypeParser(id, format);
  },
};

/** The state database: a small pool, statements whose failures are `StateError`s, transactions. */
export class PgDb {
  private readonly pool: pg.Pool;

  constructor(
    dsn: string,
    private readonly logger: Logger | undefined,
  ) {
    this.pool = new pg.Pool({
      connectionString: dsn,
      max: 4,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      allowExitOnIdle: true,
      application_name: "mai-gate",
      types,
    });
    this.pool.on("error", (err) => {
      this.logger?.warn({ err }, "state database: an idle connection failed; the next call reconnects");
    });
  }

  /** One statement outside any transaction. */
  async query<R>(what: string, sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.pool.query(sql, params)).rows as R[];
    } catch (err) {
      throw fail(what, err);
    }
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction, after taking the advisory `lock` when given (held until
   * COMMIT or ROLLBACK, and released by the server if this process dies). Whatever `fn` throws itself
   * reaches the caller unchanged; database failures are `StateError`s.
   */
  async transaction<T>(what: string, fn: (q: Query) => Promise<T>, lock?: string): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw fail(what, err);
    }
    const onError = (err: Error) => {
      this.logger?.warn({ err }, "state database: a connection failed during a transaction");
    };
    client.on("error", onError);
    const q: Query = async <R>(sql: string, params?: unknown[]) => {
      try {
        return (await client.query(sql, params)).rows as R[];
      } catch (err) {
        throw fail(what, err);
      }
    };
    let discard: Error | undefined;
    try {
      await q(
        `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS};
        SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_MS};
        ${lock === undefined ? "" : `SELECT pg_advisory_xact_lock(${BigInt(lock)});`}`,
      );
      const result = await fn(q);
      await q("COMMIT");
      return result;
    } catch (err) {
      discard = await client.query("ROLLBACK").then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      );
      throw err;
    } finally {
      client.off("error", onError);
      client.release(discard);
    }
  }

  async end(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/** A database failure as a `StateError` saying what failed and what to do. */
export function fail(what: string, err: unknown): StateError {
  if (err instanceof StateError) return err;
  const code = (err as { code?: unknown }).code;
  const sqlstate = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : null;
  const message = errorMessage(err) || (typeof code === "string" ? code : "connection failed");
  let hint = RETRY_HINT;
  if (sqlstate === null || /^(08|57P|53)/.test(sqlstate)) hint = REACH_HINT;
  else if (sqlstate === "55P03") hint = "Another mai-gate held the state lock too long; retry the call.";
  else if (sqlstate === "42501") hint = PRIVILEGE_HINT;
  return new StateError(`${what}: ${message}`, { hint, cause: err });
}

/** Appends one audit event. */
export async function writeEvent(q: Query, at: number, e: EventInput): Promise<void> {
  await q(
    "INSERT INTO mai_gate.events (at, actor, role, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    [at, e.actor, e.role, e.action, e.subject, e.detail === undefined ? null : JSON.stringify(e.detail)],
  );
}

/** SQLite reads a negative LIMIT as "no limit"; PostgreSQL refuses it: NULL means ALL there. */
export function limit(n: number): number | null {
  return n < 0 ? null : n;
}

/** The DSN to show: without its password (in the userinfo or as a `password` parameter). */
export function redactDsn(dsn: string): string {
  try {
    const url = new URL(dsn);
    if (url.password) url.password = "";
    for (const key of [...url.searchParams.keys()]) {
      if (/password/i.test(key)) url.searchParams.delete(key);
    }
    return url.toString();
  } catch {
    return dsn.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, "$1***");
  }
}
