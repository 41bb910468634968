import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { errorMessage } from "../errors.js";
import { SCRATCH_PREFIX, ScratchError, type ScratchSession } from "./engine.js";

/** Names, guards and small pieces of the PostgreSQL scratch engine. */
export const WARM_SLOTS = 8;
export const CONNECT_TIMEOUT_MS = 5_000;
export const LOCK_SQL = "SELECT pg_advisory_lock(hashtextextended($1, 0))";
export const TRY_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok";
export const UNLOCK_SQL = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";
/** Held while cloning a template: eviction's exclusive try-lock then skips it. */
export const SHARED_LOCK_SQL = "SELECT pg_advisory_lock_shared(hashtextextended($1, 0))";
export const SHARED_UNLOCK_SQL = "SELECT pg_advisory_unlock_shared(hashtextextended($1, 0))";
const LEFTOVER = new RegExp(`^${SCRATCH_PREFIX}(?:run|build)_`);
const WARM = new RegExp(`^${SCRATCH_PREFIX}warm_([0-9a-f]{24})_\\d+$`);
const DSN_HINT =
  "Check scratch.dsn (host, port, user, database) and that the scratch PostgreSQL server is running.";

export const q = (name: string) => pg.escapeIdentifier(name);
export const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** The first 24 hex digits of a content key; a key that is not lowercase hex is hashed first. */
export function tag(key: string): string {
  const digits = /^[0-9a-f]{24}/.test(key) ? key : createHash("sha256").update(key).digest("hex");
  return digits.slice(0, 24);
}

export const templateName = (key: string) => `${SCRATCH_PREFIX}tpl_${tag(key)}`;
export const warmName = (key: string, n: number) => `${SCRATCH_PREFIX}warm_${tag(key)}_${n}`;

/** The only way anything is dropped: names without the scratch prefix are refused outright. */
export async function dropScratchDatabase(client: pg.Client, name: string): Promise<void> {
  if (!name.startsWith(SCRATCH_PREFIX)) {
    throw new ScratchError(
      `refusing to drop database "${name}": only ${SCRATCH_PREFIX}* databases are scratch`,
    );
  }
  await client.query(`DROP DATABASE IF EXISTS ${q(name)} WITH (FORCE)`);
}

/** Run/build databases are always leftovers once unlocked; warm clones only when their template is gone. */
export function isLeftover(name: string, all: Set<string>): boolean {
  if (!name.startsWith(SCRATCH_PREFIX)) return false;
  if (LEFTOVER.test(name)) return true;
  const warm = WARM.exec(name);
  return warm !== null && !all.has(`${SCRATCH_PREFIX}tpl_${warm[1]}`);
}

export function parseDsn(dsn: string): URL {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch (err) {
    throw new ScratchError("scratch.dsn is not a postgres:// URL", { hint: DSN_HINT, cause: err });
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ScratchError(`scratch.dsn has scheme ${url.protocol}, expected postgres://`, {
      hint: DSN_HINT,
    });
  }
  return url;
}

export function connectError(address: string, err: unknown): ScratchError {
  const code = (err as { code?: unknown }).code;
  const refused = typeof code === "string" && /^(28|3D)/.test(code);
  const what = refused ? "refused the connection" : "is unreachable";
  return new ScratchError(`scratch server ${address} ${what}: ${errorMessage(err) || "connection failed"}`, {
    hint: DSN_HINT,
    cause: err,
  });
}

/** One statement over the simple query protocol; the server's error propagates unchanged. */
export function sessionOf(client: pg.Client, cancel?: () => Promise<void>): ScratchSession {
  return {
    ...(cancel ? { cancel } : {}),
    async query(sql) {
      const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(result) ? result.at(-1) : result;
      return { rows: last?.rows ?? [], rowCount: last?.rowCount ?? null };
    },
  };
}
