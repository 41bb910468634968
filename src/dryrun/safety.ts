import pg from "pg";
import { errorMessage } from "../errors.js";
import { ScratchError } from "./engine.js";

/** A server's own identity: its system identifier (from its control file) and the database. */
export interface ServerIdentity {
  system: string;
  database: string;
}

/** Reads a server's identity in a read-only transaction; throws with the reason when it cannot. */
export async function identify(dsn: string, timeoutMs: number): Promise<ServerIdentity> {
  const client = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("BEGIN TRANSACTION READ ONLY");
    const r = await client.query<{ system: string; database: string }>(
      "SELECT system_identifier::text AS system, current_database() AS database FROM pg_control_system()",
    );
    await client.query("ROLLBACK");
    const row = r.rows[0];
    if (!row) throw new Error("pg_control_system() returned no row");
    return row;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Scratch databases are created, written and dropped, and branch migrations run there: the scratch
 * server must provably not be production. Servers are compared by identity (system identifier and
 * database), never by DSN text, and the check fails closed: when either side cannot be identified
 * the dry run is refused with the reason. A scratch on production's server (another database) is
 * refused unless `scratch.allow_production_server` says so; production's own database never.
 */
export async function refuseScratchOnProduction(
  scratchDsn: string,
  prodDsn: string | undefined,
  options: { allowProductionServer: boolean; timeoutMs?: number },
): Promise<void> {
  if (!prodDsn) return;
  const timeout = options.timeoutMs ?? 3000;
  const [scratch, prod] = await Promise.allSettled([
    identify(scratchDsn, timeout),
    identify(prodDsn, timeout),
  ]);
  const failed = (r: PromiseSettledResult<ServerIdentity>, what: string) =>
    r.status === "rejected"
      ? new ScratchError(
          `cannot prove the scratch server is not production: ${what} could not be identified (${errorMessage(r.reason)})`,
          {
            hint:
              what === "production"
                ? "Dry runs need production reachable to compare servers (prod.dsn); retry when it is, or unset prod.dsn for a local setup."
                : "Check scratch.dsn and that the scratch server is running.",
          },
        )
      : null;
  const problem = failed(scratch, "the scratch server") ?? failed(prod, "production");
  if (problem) throw problem;
  const s = (scratch as PromiseFulfilledResult<ServerIdentity>).value;
  const p = (prod as PromiseFulfilledResult<ServerIdentity>).value;
  if (s.system !== p.system) return;
  if (s.database === p.database)
    throw new ScratchError(
      `scratch.dsn is production's database ${p.database} (same server, system ${p.system}): dry runs create, write and drop databases there`,
      { hint: "Point scratch.dsn at a separate server (or leave it unset to use embedded PGlite)." },
    );
  if (!options.allowProductionServer)
    throw new ScratchError(
      `scratch.dsn is on production's own server (system ${p.system}): a branch's migration would run beside production's data`,
      {
        hint: "Use a separate scratch server (or embedded PGlite); set scratch.allow_production_server: true only if you accept the risk.",
      },
    );
}
