import pg from "pg";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { ScratchError } from "./engine.js";
import {
  CONNECT_TIMEOUT_MS,
  connectError,
  dropScratchDatabase,
  LOCK_SQL,
  parseDsn,
  q,
  SHARED_LOCK_SQL,
  SHARED_UNLOCK_SQL,
  TRY_LOCK_SQL,
} from "./pg-scratch.js";

/**
 * The scratch server's connections: short-lived sessions as the runner (every claim is an advisory
 * lock held by one of them) or as the admin, all closed by `closeAll`.
 */
export class ScratchConnections {
  private readonly runner: URL;
  private readonly admin: URL | null;
  private readonly address: string;
  private readonly open = new Set<pg.Client>();

  constructor(
    dsn: string,
    adminDsn: string | undefined,
    private readonly log: Logger,
  ) {
    this.runner = parseDsn(dsn);
    this.admin = adminDsn ? parseDsn(adminDsn) : null;
    this.address = `${this.runner.hostname || "localhost"}:${this.runner.port || "5432"}`;
  }

  /** A session in `database` (default: the DSN's) as the runner, or as the admin when one is set. */
  async connect(database?: string, as: "runner" | "admin" = "runner"): Promise<pg.Client> {
    const url = new URL(as === "admin" && this.admin ? this.admin : this.runner);
    if (database !== undefined) url.pathname = `/${encodeURIComponent(database)}`;
    const client = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: "mai-gate",
    });
    client.on("error", (err) =>
      this.log.warn({ database, err: errorMessage(err) }, "scratch connection dropped"),
    );
    try {
      await client.connect();
    } catch (err) {
      throw connectError(this.address, err);
    }
    this.open.add(client);
    return client;
  }

  async disconnect(client: pg.Client): Promise<void> {
    this.open.delete(client);
    await client.end().catch(() => undefined);
  }

  /** `fn` on a session of its own, closed afterwards. */
  async withSession<T>(fn: (session: pg.Client) => Promise<T>): Promise<T> {
    const session = await this.connect();
    try {
      return await fn(session);
    } finally {
      await this.disconnect(session);
    }
  }

  /** A fresh session holding the advisory lock on `name` (waits for it). */
  async lockOn(name: string): Promise<pg.Client> {
    const session = await this.connect();
    try {
      await session.query(LOCK_SQL, [name]);
      return session;
    } catch (err) {
      await this.disconnect(session);
      throw err;
    }
  }

  /** Closing the session releases its locks; the explicit unlock just makes the release immediate. */
  async unlock(session: pg.Client): Promise<void> {
    await session.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
    await this.disconnect(session);
  }

  async dropQuietly(session: pg.Client, name: string): Promise<void> {
    try {
      await dropScratchDatabase(session, name);
    } catch (err) {
      this.log.warn(
        { database: name, err: errorMessage(err) },
        "dropping a scratch database failed; the janitor retries",
      );
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((c) => this.disconnect(c)));
  }
}

export async function tryLock(session: pg.Client, name: string): Promise<boolean> {
  const { rows } = await session.query<{ ok: boolean }>(TRY_LOCK_SQL, [name]);
  return rows[0]?.ok === true;
}

/** Which of `names` exist as databases. */
export async function existing(session: pg.Client, names: string[]): Promise<Set<string>> {
  const { rows } = await session.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname = ANY($1::text[])",
    [names],
  );
  return new Set(rows.map((r) => r.datname));
}

/** `CREATE DATABASE name TEMPLATE source`, holding a shared lock on a template while it is copied. */
export async function createFrom(session: pg.Client, name: string, source: string): Promise<void> {
  const template = source !== "template0";
  try {
    if (template) await session.query(SHARED_LOCK_SQL, [source]);
    await session.query(`CREATE DATABASE ${q(name)} TEMPLATE ${q(source)}`);
  } catch (err) {
    const missing = (err as { code?: unknown }).code === "3D000";
    throw new ScratchError(
      missing
        ? `template database ${source} does not exist`
        : `creating scratch database ${name} from ${source} failed: ${errorMessage(err)}`,
      {
        hint: missing
          ? "Ensure the template (ensureTemplate) before cloning it."
          : "The scratch role needs CREATEDB, and nothing may be connected to the template.",
        cause: err,
      },
    );
  } finally {
    if (template) await session.query(SHARED_UNLOCK_SQL, [source]).catch(() => undefined);
  }
}
