import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { errorMessage, StateError } from "../errors.js";
import { type LeaseRecord, leaseFromRow } from "./rows.js";
import { type SchemaStep, SQLITE_SCHEMA } from "./schema.js";
import { SqliteEvidence } from "./sqlite-evidence.js";
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

type Db = Database.Database;

/** SQLite state: WAL, a busy timeout, and every decision in a `BEGIN IMMEDIATE` transaction. */
export function openSqliteStore(path: string, options: { busyTimeoutMs?: number } = {}): StateStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 15_000;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const db = retryWhileBusy(busyTimeoutMs, () => {
      const conn = new Database(path);
      try {
        conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
        conn.pragma("journal_mode = WAL");
        conn.pragma("synchronous = NORMAL");
        migrate(conn, SQLITE_SCHEMA);
        return conn;
      } catch (err) {
        conn.close();
        throw err;
      }
    });
    return new SqliteStore(db, path);
  } catch (err) {
    if (err instanceof StateError) throw err;
    throw new StateError(`cannot open the state database ${path}: ${errorMessage(err)}`, {
      hint: "Check that the directory is writable, or set MAI_GATE_STATE to another path.",
      cause: err,
    });
  }
}

/**
 * Switching a new file to WAL and creating the schema can meet SQLITE_BUSY without SQLite's busy
 * handler being consulted (many servers opening one fresh file at once): retry with jitter.
 */
function retryWhileBusy<T>(timeoutMs: number, fn: () => T): T {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (!code.startsWith("SQLITE_BUSY") && !code.startsWith("SQLITE_LOCKED")) throw err;
      if (Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 10 + Math.random() * 40);
    }
  }
}

function migrate(db: Db, steps: SchemaStep[]): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const run = db.transaction(() => {
    const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
    const current = row.v ?? 0;
    const latest = steps.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new StateError(`the state database has schema ${current}; this mai-gate knows up to ${latest}`, {
        hint: "Upgrade mai-gate on this host: another host already uses a newer version.",
      });
    }
    const insert = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    for (const step of steps) {
      if (step.version <= current) continue;
      db.exec(step.sql);
      insert.run(step.version, step.name, Date.now());
    }
  });
  run.immediate();
}

class SqliteStore implements StateStore {
  private readonly stmts;
  private readonly evidence: SqliteEvidence;

  constructor(
    private readonly db: Db,
    readonly location: string,
  ) {
    this.evidence = new SqliteEvidence(db, (at, e) => this.writeEvent(at, e));
    this.stmts = {
      open: db.prepare("SELECT * FROM leases WHERE ended_at IS NULL ORDER BY version"),
      byId: db.prepare("SELECT * FROM leases WHERE id = ?"),
      insert: db.prepare(`INSERT INTO leases (id, version, name, request_name, seq, files, worker, branch,
        created_at, expires_at, prod_checked) VALUES (@id, @version, @name, @requestName, @seq, @files, @worker,
        @branch, @createdAt, @expiresAt, @prodChecked)`),
      end: db.prepare(`UPDATE leases SET ended_at = @at, end_reason = @reason, ended_by = @by, end_note = @note,
        moved_to = @movedTo WHERE id = @id AND ended_at IS NULL`),
      renew: db.prepare("UPDATE leases SET expires_at = ? WHERE id = ? AND ended_at IS NULL"),
      event: db.prepare(
        "INSERT INTO events (at, actor, role, action, subject, detail) VALUES (@at, @actor, @role, @action, @subject, @detail)",
      ),
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
    };
  }

  async transact<T>(now: number, ids: string[], decide: (snapshot: Snapshot) => Plan<T>): Promise<T> {
    const run = this.db.transaction((): T => {
      const open = (this.stmts.open.all() as LeaseRecord[]).map(leaseFromRow);
      const requested = new Map<string, LeaseRow>();
      for (const id of ids) {
        const row = this.stmts.byId.get(id) as LeaseRecord | undefined;
        if (row) requested.set(id, leaseFromRow(row));
      }
      const plan = decide({ open, requested });
      for (const lease of plan.end ?? []) {
        this.stmts.end.run({ ...lease, at: now, movedTo: lease.movedTo ?? null });
      }
      for (const lease of plan.insert ?? []) {
        this.stmts.insert.run({
          ...lease,
          files: JSON.stringify(lease.files),
          prodChecked: lease.prodChecked ? 1 : 0,
        });
      }
      for (const r of plan.renew ?? []) this.stmts.renew.run(r.expiresAt, r.id);
      for (const e of plan.events ?? []) this.writeEvent(now, e);
      return plan.result;
    });
    try {
      return run.immediate();
    } catch (err) {
      if (err instanceof Error && !(err instanceof Database.SqliteError)) throw err;
      throw new StateError(`state transaction failed: ${errorMessage(err)}`, {
        hint: "Retry the call; if it keeps failing, run `mai-gate leases` to inspect the state.",
        cause: err,
      });
    }
  }

  private writeEvent(at: number, e: EventInput): void {
    this.stmts.event.run({ ...e, at, detail: e.detail === undefined ? null : JSON.stringify(e.detail) });
  }

  async listLeases(options: { includeEnded: boolean; worker?: string; limit: number }): Promise<LeaseRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!options.includeEnded) where.push("ended_at IS NULL");
    if (options.worker) {
      where.push("worker = ?");
      params.push(options.worker);
    }
    const sql = `SELECT * FROM leases ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY created_at DESC, version DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, options.limit) as LeaseRecord[]).map(leaseFromRow);
  }

  async getShared(key: string): Promise<{ value: string; at: number } | null> {
    const row = this.stmts.getMeta.get(`shared:${key}`) as { value: string } | undefined;
    if (!row) return null;
    const { at, value } = JSON.parse(row.value) as { at: number; value: string };
    return { at, value };
  }

  async setShared(key: string, value: string, at: number): Promise<void> {
    this.stmts.setMeta.run(`shared:${key}`, JSON.stringify({ at, value }));
  }

  async claimInterval(key: string, intervalMs: number, now: number): Promise<boolean> {
    const run = this.db.transaction((): boolean => {
      const row = this.stmts.getMeta.get(key) as { value: string } | undefined;
      if (row && now - Number(row.value) < intervalMs) return false;
      this.stmts.setMeta.run(key, String(now));
      return true;
    });
    return run.immediate();
  }

  async events(options: { limit: number; subject?: string }): Promise<EventRow[]> {
    const rows = (
      options.subject
        ? this.db
            .prepare("SELECT * FROM events WHERE subject = ? ORDER BY id DESC LIMIT ?")
            .all(options.subject, options.limit)
        : this.db.prepare("SELECT * FROM events ORDER BY id DESC LIMIT ?").all(options.limit)
    ) as (Omit<EventRow, "detail"> & { detail: string | null })[];
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

  async schemaVersion(): Promise<number> {
    const row = this.db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
