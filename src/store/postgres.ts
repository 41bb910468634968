import { errorMessage, StateError } from "../errors.js";
import type { Logger } from "../log.js";
import { ALLOCATION_LOCK, limit, PgDb, type Query, redactDsn, writeEvent } from "./postgres-db.js";
import { PgEvidence } from "./postgres-evidence.js";
import { migratePostgres, schemaVersion } from "./postgres-migrate.js";
import { type LeaseRecord, leaseFromRow } from "./rows.js";
import { POSTGRES_SCHEMA } from "./schema.js";
import type {
  CompletionRecord,
  DryRunQuery,
  DryRunRecord,
  EventInput,
  EventRow,
  LeaseRow,
  Plan,
  Snapshot,
  StateStore,
  SuiteRunQuery,
  SuiteRunRecord,
} from "./types.js";

interface EventRecord {
  id: number;
  at: number;
  actor: string;
  role: string;
  action: string;
  subject: string;
  detail: string | null;
}

/**
 * PostgreSQL state, for workers on several hosts: the same tables as SQLite in the `mai_gate`
 * schema, and every decision under a transaction-scoped advisory lock.
 */
export async function openPostgresStore(dsn: string, options: { logger?: Logger } = {}): Promise<StateStore> {
  const location = redactDsn(dsn);
  let db: PgDb | undefined;
  try {
    db = new PgDb(dsn, options.logger);
    await migratePostgres(db, POSTGRES_SCHEMA, `cannot open the state database ${location}`, options.logger);
    return new PostgresStore(db, location);
  } catch (err) {
    await db?.end().catch(() => undefined);
    if (err instanceof StateError) throw err;
    throw new StateError(`cannot open the state database ${location}: ${errorMessage(err)}`, {
      hint: "Check the postgres:// DSN in `state` (or MAI_GATE_STATE).",
      cause: err,
    });
  }
}

class PostgresStore implements StateStore {
  private readonly evidence: PgEvidence;

  constructor(
    private readonly db: PgDb,
    readonly location: string,
  ) {
    this.evidence = new PgEvidence(db);
  }

  transact<T>(now: number, ids: string[], decide: (snapshot: Snapshot) => Plan<T>): Promise<T> {
    return this.db.transaction(
      "state transaction failed",
      async (q) => {
        const open = (
          await q<LeaseRecord>("SELECT * FROM mai_gate.leases WHERE ended_at IS NULL ORDER BY version")
        ).map(leaseFromRow);
        const requested = await requestedLeases(q, ids);
        const plan = decide({ open, requested });
        await apply(q, now, plan);
        return plan.result;
      },
      ALLOCATION_LOCK,
    );
  }

  async listLeases(options: { includeEnded: boolean; worker?: string; limit: number }): Promise<LeaseRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!options.includeEnded) where.push("ended_at IS NULL");
    if (options.worker) {
      params.push(options.worker);
      where.push(`worker = $${params.length}`);
    }
    params.push(limit(options.limit));
    const sql = `SELECT * FROM mai_gate.leases ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, version DESC LIMIT $${params.length}`;
    return (await this.db.query<LeaseRecord>("listing leases failed", sql, params)).map(leaseFromRow);
  }

  async getShared(key: string): Promise<{ value: string; at: number } | null> {
    const [row] = await this.db.query<{ value: string }>(
      "reading shared state failed",
      "SELECT value FROM mai_gate.meta WHERE key = $1",
      [`shared:${key}`],
    );
    if (!row) return null;
    const { at, value } = JSON.parse(row.value) as { at: number; value: string };
    return { at, value };
  }

  async setShared(key: string, value: string, at: number): Promise<void> {
    await this.db.query(
      "writing shared state failed",
      `INSERT INTO mai_gate.meta (key, value) VALUES ($1, $2)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [`shared:${key}`, JSON.stringify({ at, value })],
    );
  }

  /**
   * One statement: the upsert takes the row lock and re-checks the condition on the newest value, so
   * of many concurrent callers exactly one sees its row come back. A non-numeric value is claimable.
   */
  async claimInterval(key: string, intervalMs: number, now: number): Promise<boolean> {
    const rows = await this.db.query(
      "claiming an interval failed",
      `INSERT INTO mai_gate.meta AS m (key, value) VALUES ($1, $2)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value
      WHERE CASE WHEN m.value ~ '^-?[0-9]+(\\.[0-9]+)?$'
        THEN $3::numeric - m.value::numeric >= $4::numeric ELSE true END
      RETURNING key`,
      [key, String(now), now, intervalMs],
    );
    return rows.length === 1;
  }

  async events(options: { limit: number; subject?: string }): Promise<EventRow[]> {
    const rows = options.subject
      ? await this.db.query<EventRecord>(
          "reading events failed",
          "SELECT * FROM mai_gate.events WHERE subject = $1 ORDER BY id DESC LIMIT $2",
          [options.subject, limit(options.limit)],
        )
      : await this.db.query<EventRecord>(
          "reading events failed",
          "SELECT * FROM mai_gate.events ORDER BY id DESC LIMIT $1",
          [limit(options.limit)],
        );
    return rows.map((r) => ({ ...r, detail: r.detail === null ? undefined : JSON.parse(r.detail) }));
  }

  recordDryRun(records: DryRunRecord[], event: EventInput): Promise<void> {
    return this.evidence.recordDryRun(records, event);
  }

  dryRuns(query: DryRunQuery): Promise<DryRunRecord[]> {
    return this.evidence.dryRuns(query);
  }

  saveSuiteRun(run: SuiteRunRecord, event?: EventInput): Promise<void> {
    return this.evidence.saveSuiteRun(run, event);
  }

  suiteRuns(query: SuiteRunQuery): Promise<SuiteRunRecord[]> {
    return this.evidence.suiteRuns(query);
  }

  saveCompletion(completion: CompletionRecord, event: EventInput): Promise<void> {
    return this.evidence.saveCompletion(completion, event);
  }

  completions(query: { worker?: string; head?: string; limit: number }): Promise<CompletionRecord[]> {
    return this.evidence.completions(query);
  }

  interruptSuiteRuns(isAlive: (pid: number, host: string | null) => boolean, now: number): Promise<string[]> {
    return this.evidence.interruptSuiteRuns(isAlive, now);
  }

  schemaVersion(): Promise<number> {
    return schemaVersion(this.db, "reading the schema version failed");
  }

  close(): Promise<void> {
    return this.db.end();
  }
}

/** The leases asked for by id, open or ended, in the order asked. */
async function requestedLeases(q: Query, ids: string[]): Promise<Map<string, LeaseRow>> {
  const requested = new Map<string, LeaseRow>();
  if (ids.length === 0) return requested;
  const rows = await q<LeaseRecord>("SELECT * FROM mai_gate.leases WHERE id = ANY($1::text[])", [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of ids) {
    const row = byId.get(id);
    if (row) requested.set(id, leaseFromRow(row));
  }
  return requested;
}

/** Writes a plan in the order SQLite does: ends, inserts, renewals, events. */
async function apply(q: Query, now: number, plan: Plan<unknown>): Promise<void> {
  for (const e of plan.end ?? []) {
    await q(
      `UPDATE mai_gate.leases SET ended_at = $1, end_reason = $2, ended_by = $3, end_note = $4, moved_to = $5
      WHERE id = $6 AND ended_at IS NULL`,
      [now, e.reason, e.by, e.note, e.movedTo ?? null, e.id],
    );
  }
  for (const l of plan.insert ?? []) {
    await q(
      `INSERT INTO mai_gate.leases (id, version, name, request_name, seq, files, worker, branch, created_at,
      expires_at, prod_checked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        l.id,
        l.version,
        l.name,
        l.requestName,
        l.seq,
        JSON.stringify(l.files),
        l.worker,
        l.branch,
        l.createdAt,
        l.expiresAt,
        l.prodChecked,
      ],
    );
  }
  for (const r of plan.renew ?? []) {
    await q("UPDATE mai_gate.leases SET expires_at = $1 WHERE id = $2 AND ended_at IS NULL", [
      r.expiresAt,
      r.id,
    ]);
  }
  for (const e of plan.events ?? []) await writeEvent(q, now, e);
}
