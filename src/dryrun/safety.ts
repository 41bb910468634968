import pg from "pg";
import { errorMessage } from "../errors.js";
import { ScratchError } from "./engine.js";

interface ServerIdentity {
  system: string;
  database: string;
}

async function identify(dsn: string, timeoutMs: number): Promise<ServerIdentity | null> {
  const client = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("BEGIN TRANSACTION READ ONLY");
    const r = await client.query<{ system: string; database: string }>(
      "SELECT system_identifier::text AS system, current_database() AS database FROM pg_control_system()",
    );
    await client.query("ROLLBACK");
    return r.rows[0] ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sameDsn(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const key = (u: URL) => `${u.hostname}:${u.port || "5432"}/${decodeURIComponent(u.pathname.slice(1))}`;
    return key(x) === key(y);
  } catch {
    return a === b;
  }
}

/**
 * Scratch databases are created, written and dropped: refuse a scratch DSN that is production's
 * database, by its address and by the server's own identity (system identifier and database).
 */
export async function refuseScratchOnProduction(
  scratchDsn: string,
  prodDsn: string | undefined,
): Promise<void> {
  if (!prodDsn) return;
  const refuse = () =>
    new ScratchError(
      "scratch.dsn points at production's database: dry runs create, write and drop databases there",
      {
        hint: "Point scratch.dsn at a separate server (or leave it unset to use embedded PGlite).",
      },
    );
  if (sameDsn(scratchDsn, prodDsn)) throw refuse();
  const [scratch, prod] = await Promise.all([identify(scratchDsn, 3000), identify(prodDsn, 3000)]).catch(
    (err: unknown) => {
      throw new ScratchError(`cannot compare the scratch server with production: ${errorMessage(err)}`);
    },
  );
  if (scratch && prod && scratch.system === prod.system && scratch.database === prod.database) throw refuse();
}
