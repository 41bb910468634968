import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

/**
 * SQLite state: WAL, a busy timeout, and every decision in a `BEGIN IMMEDIATE` transaction. A state
 * file this process may only read (a read-only mount, another user's file) still opens, read-only,
 * so listings work; every write then fails with a `StateError` that says why.
 */
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
    if (isReadOnly(err) && existsSync(path)) return openReadOnly(path, busyTimeoutMs);
    throw sqliteFailure(`cannot open the state database ${path}`, path, err);
  }
}

/**
 * The state file as it is, for reading; its schema must be this code's (it cannot be migrated). A
 * WAL file on a read-only mount cannot be read in place (SQLite needs its `-shm` file): then a copy
 * in a temporary directory is read, and removed when the store closes.
 */
function openReadOnly(path: string, busyTimeoutMs: number): StateStore {
  let db: Db | null = null;
  let copy: string | null = null;
  try {
    try {
      db = readOnlyAt(path, busyTimeoutMs);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "SQLITE_CANTOPEN") throw err;
      copy = mkdtempSync(join(tmpdir(), "mai-gate-state-"));
      for (const suffix of ["", "-wal"]) {
        if (existsSync(path + suffix)) copyFileSync(path + suffix, join(copy, `state.db${suffix}`));
      }
      db = readOnlyAt(join(copy, "state.db"), busyTimeoutMs);
    }
    const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
    const latest = SQLITE_SCHEMA.at(-1)?.version ?? 0;
    if ((row.v ?? 0) !== latest) {
      throw new StateError(
        `the state database ${path} is read-only here and has schema ${row.v ?? 0}; this mai-gate needs ${latest}`,
        {
          hint: "Open it once with write access (any mai-gate command) so its schema is brought up to date.",
        },
      );
    }
    const cleanup = copy;
    return new SqliteStore(db, path, () => {
      if (cleanup) rmSync(cleanup, { recursive: true, force: true });
    });
  } catch (err) {
    db?.close();
    if (copy) rmSync(copy, { recursive: true, force: true });
    if (err instanceof StateError) throw err;
    throw sqliteFailure(`cannot open the state database ${path}`, path, err);
  }
}

function readOnlyAt(path: string, busyTimeoutMs: number): Db {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.prepare("SELECT 1 FROM schema_migrations LIMIT 1").get();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function isReadOnly(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_READONLY") || code === "SQLITE_CANTOPEN");
}

/**
 * A SQLite failure as a `StateError` that says what it means for the state file and what to do: a
 * full disk, a damaged or foreign file, a file this process may not write, a directory it cannot use.
 */
export function sqliteFailure(what: string, path: string, err: unknown): StateError {
  const code = String((err as { code?: unknown }).code ?? "");
  const at = `${what}: ${errorMessage(err)}`;
  if (code === "SQLITE_FULL" || code === "SQLITE_IOERR_WRITE" || code === "SQLITE_IOERR_SHMSIZE") {
    return new StateError(`${what}: the disk holding ${path} is full (${code})`, {
      hint: "Free space on that disk (nothing was written), or set MAI_GATE_STATE to a file on another disk.",
      cause: err,
    });
  }
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new StateError(`${what}: ${path} is damaged or not a mai-gate state database (${code})`, {
      hint: `Move it aside (mv ${path} ${path}.damaged) and run again: a new state starts empty (leases and records are lost), or restore it from a backup.`,
      cause: err,
    });
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return new StateError(`${what}: ${path} is read-only for this process (${code})`, {
      hint: "Listings work; reserving, releasing and recording need write access to the file and its directory (for the WAL files), or set MAI_GATE_STATE to a writable path.",
      cause: err,
    });
  }
  if (code === "SQLITE_CANTOPEN") {
    return new StateError(`${what}: SQLite cannot open ${path} (${code})`, {
      hint: "Check that its directory exists and is writable by this user, or set MAI_GATE_STATE to another path.",
      cause: err,
    });
  }
  if (code.startsWith("SQLITE_IOERR")) {
    return new StateError(`${what}: a disk error on ${path} (${code})`, {
      hint: "Check the disk (dmesg); then retry, or set MAI_GATE_STATE to a file on another disk.",
      cause: err,
    });
  }
  return new StateError(at, {
    hint: "Retry the call; if it keeps failing, run `mai-gate leases` to inspect the state.",
    cause: err,
  });
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
    private readonly onClose: () => void = () => undefined,
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
    return this.guard("state transaction failed", () => run.immediate());
  }

  /** Runs one use of the database; its SQLite failures become `StateError`s saying what to do. */
  private async guard<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof Database.SqliteError)) throw err;
      throw sqliteFailure(what, this.location, err);
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
    return this.guard("cannot list leases", () =>
      (this.db.prepare(sql).all(...params, options.limit) as LeaseRecord[]).map(leaseFromRow),
    );
  }

  async getShared(key: string): Promise<{ value: string; at: number } | null> {
    const row = await this.guard(
      "cannot read the state",
      () => this.stmts.getMeta.get(`shared:${key}`) as { value: string } | undefined,
    );
    if (!row) return null;
    const { at, value } = JSON.parse(row.value) as { at: number; value: string };
    return { at, value };
  }

  async setShared(key: string, value: string, at: number): Promise<void> {
    await this.guard("cannot write the state", () =>
      this.stmts.setMeta.run(`shared:${key}`, JSON.stringify({ at, value })),
    );
  }

  async claimInterval(key: string, intervalMs: number, now: number): Promise<boolean> {
    const run = this.db.transaction((): boolean => {
      const row = this.stmts.getMeta.get(key) as { value: string } | undefined;
      if (row && now - Number(row.value) < intervalMs) return false;
      this.stmts.setMeta.run(key, String(now));
      return true;
    });
    return this.guard("cannot write the state", () => run.immediate());
  }

  async events(options: { limit: number; subject?: string }): Promise<EventRow[]> {
    const rows = (await this.guard("cannot read events", () =>
      options.subject
        ? this.db
            .prepare("SELECT * FROM events WHERE subject = ? ORDER BY id DESC LIMIT ?")
            .all(options.subject, options.limit)
        : this.db.prepare("SELECT * FROM events ORDER BY id DESC LIMIT ?").all(options.limit),
    )) as (Omit<EventRow, "detail"> & { detail: string | null })[];
    return rows.map((r) => ({ ...r, detail: r.detail === null ? undefined : JSON.parse(r.detail) }));
  }

  recordDryRun(records: DryRunRecord[], event: EventInput): Promise<void> {
    return this.guard("cannot record the dry run", () => this.evidence.recordDryRun(records, event));
  }

  dryRuns(query: DryRunQuery): Promise<DryRunRecord[]> {
    return this.guard("cannot read dry runs", () => this.evidence.dryRuns(query));
  }

  saveSuiteRun(run: SuiteRunRecord, event?: EventInput): Promise<void> {
    return this.guard("cannot record the suite run", () => this.evidence.saveSuiteRun(run, event));
  }

  suiteRuns(query: SuiteRunQuery): Promise<SuiteRunRecord[]> {
    return this.guard("cannot read suite runs", () => this.evidence.suiteRuns(query));
  }

  saveCompletion(completion: CompletionRecord, event: EventInput): Promise<void> {
    return this.guard("cannot record the completion", () => this.evidence.saveCompletion(completion, event));
  }

  completions(query: { worker?: string; head?: string; limit: number }): Promise<CompletionRecord[]> {
    return this.guard("cannot read completions", () => this.evidence.completions(query));
  }

  interruptSuiteRuns(isAlive: (pid: number, host: string | null) => boolean, now: number): Promise<string[]> {
    return this.guard("cannot mark interrupted suite runs", () =>
      this.evidence.interruptSuiteRuns(isAlive, now),
    );
  }

  async schemaVersion(): Promise<number> {
    const row = (await this.guard("cannot read the schema version", () =>
      this.db.prepare("SELECT max(version) AS v FROM schema_migrations").get(),
    )) as { v: number | null };
    return row.v ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
    this.onClose();
  }
}
