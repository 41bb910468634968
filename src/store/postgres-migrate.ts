import { StateError } from "../errors.js";
import type { Logger } from "../log.js";
import { type PgDb, SCHEMA_LOCK } from "./postgres-db.js";
import type { SchemaStep } from "./schema.js";

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS mai_gate.schema_migrations (
  version    bigint PRIMARY KEY,
  name       text NOT NULL,
  applied_at bigint NOT NULL
)`;

/**
 * Brings the `mai_gate` schema up to the last step. A database already there costs two reads and
 * needs no CREATE privilege; otherwise the steps run in one transaction under an advisory lock, so
 * many processes opening a fresh database at once apply each step exactly once.
 */
export async function migratePostgres(
  db: PgDb,
  steps: SchemaStep[],
  what: string,
  logger?: Logger,
): Promise<void> {
  const latest = steps.at(-1)?.version ?? 0;
  const [present] = await db.query<{ ok: boolean }>(
    what,
    "SELECT to_regclass('mai_gate.schema_migrations') IS NOT NULL AS ok",
  );
  if (present?.ok) {
    const current = await schemaVersion(db, what);
    refuseNewer(current, latest);
    if (current === latest) return;
  }
  await db.transaction(
    what,
    async (q) => {
      await q("CREATE SCHEMA IF NOT EXISTS mai_gate");
      await q(MIGRATIONS_TABLE);
      const [row] = await q<{ v: number | null }>("SELECT max(version) AS v FROM mai_gate.schema_migrations");
      const current = row?.v ?? 0;
      refuseNewer(current, latest);
      for (const step of steps) {
        if (step.version <= current) continue;
        await q(step.sql);
        await q("INSERT INTO mai_gate.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          step.version,
          step.name,
          Date.now(),
        ]);
        logger?.info({ version: step.version, name: step.name }, "state database: schema step applied");
      }
    },
    SCHEMA_LOCK,
  );
}

export async function schemaVersion(db: PgDb, what: string): Promise<number> {
  const [row] = await db.query<{ v: number | null }>(
    what,
    "SELECT max(version) AS v FROM mai_gate.schema_migrations",
  );
  return row?.v ?? 0;
}

function refuseNewer(current: number, latest: number): void {
  if (current > latest) {
    throw new StateError(`the state database has schema ${current}; this mai-gate knows up to ${latest}`, {
      hint: "Upgrade mai-gate on this host: another host already uses a newer version.",
    });
  }
}
