import { CancelledError } from "../errors.js";
import type { ScratchSession } from "./engine.js";
import { lineColumnAt, type SqlAnalysis, type SqlStatement } from "./sql.js";

/** A migration file ready to run: its text, identity and parsed statements. */
export interface PreparedFile {
  /** Path relative to the repository root. */
  path: string;
  version: number | null;
  name: string | null;
  sha256: string;
  text: string;
  analysis: SqlAnalysis;
}

/** Where and why a file failed, as the database said it. */
export interface FailureReport {
  path: string;
  line: number;
  column: number;
  statement: string;
  sqlstate: string | null;
  message: string;
  detail: string | null;
  hint: string | null;
  /** The migration on main that explains it, when one does. */
  explanation: string | null;
}

/** Relation locks a file held, by lock mode: `{ AccessExclusiveLock: ["public.rules"] }`. */
export type LockSummary = Record<string, string[]>;

export interface FileRun {
  status: "applied" | "failed" | "not_run";
  durationMs: number | null;
  ran: "transaction" | "autocommit" | null;
  /** Null when not observable (statements outside a transaction, or the file failed). */
  locks: LockSummary | null;
  failure: FailureReport | null;
  notes: string[];
}

export type Explain = (facts: { sqlstate: string; message: string }) => string | null;

/**
 * Watches a rehearsal: once before the first file, after every statement that succeeded, and after
 * every file that applied (before its transaction ends, when it has one).
 */
export interface Probe {
  before(session: ScratchSession, inTransaction: boolean): Promise<void>;
  after(
    session: ScratchSession,
    file: PreparedFile,
    statement: SqlStatement,
    inTransaction: boolean,
  ): Promise<void>;
  afterFile?(session: ScratchSession, file: PreparedFile, inTransaction: boolean): Promise<void>;
}

/** Several probes as one, each called in turn. */
export function probes(...list: (Probe | undefined)[]): Probe | undefined {
  const all = list.filter((p): p is Probe => p !== undefined);
  if (all.length <= 1) return all[0];
  return {
    async before(session, inTransaction) {
      for (const p of all) await p.before(session, inTransaction);
    },
    async after(session, file, statement, inTransaction) {
      for (const p of all) await p.after(session, file, statement, inTransaction);
    },
    async afterFile(session, file, inTransaction) {
      for (const p of all) await p.afterFile?.(session, file, inTransaction);
    },
  };
}

const LOCKS_SQL = `SELECT n.nspname AS schema, c.relname AS relation, l.mode AS mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`;

/**
 * A session that stops at the caller's abort: no statement starts after it, the one running is
 * cancelled on the server (where the engine can), and its error becomes a `CancelledError` — never a
 * file's failure. ROLLBACK always goes through, so the clone is left as it was.
 */
export function abortable(session: ScratchSession, signal: AbortSignal | undefined): ScratchSession {
  if (!signal) return session;
  return {
    async query(sql) {
      if (sql === "ROLLBACK") return session.query(sql);
      if (signal.aborted) throw new CancelledError("the dry run");
      const onAbort = () => void session.cancel?.();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        return await session.query(sql);
      } catch (err) {
        if (signal.aborted) throw new CancelledError("the dry run");
        throw err;
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** Outer BEGIN/COMMIT of a file become the unit mai-gate (and the app's migrator) wraps it in. */
const FOLDED = new Set(["begin", "commit", "rollback"]);

/**
 * Runs files in one transaction on a warm clone and rolls everything back: one savepoint per file,
 * locks read from pg_locks before each release. Stops at the first failure; later files are not run.
 */
export function runWarm(
  session: ScratchSession,
  files: PreparedFile[],
  explain: Explain,
  probe?: Probe,
): Promise<FileRun[]> {
  return runInOneTransaction(session, files, explain, "ROLLBACK", probe);
}

/** One transaction around every file, a savepoint per file; ends with `end` (ROLLBACK after a failure). */
async function runInOneTransaction(
  session: ScratchSession,
  files: PreparedFile[],
  explain: Explain,
  end: "ROLLBACK" | "COMMIT",
  probe?: Probe,
): Promise<FileRun[]> {
  const runs: FileRun[] = [];
  const held = new Set<string>();
  await session.query("BEGIN");
  try {
    await probe?.before(session, true);
    for (const file of files) {
      if (runs.some((r) => r.status === "failed")) {
        runs.push(notRun());
        continue;
      }
      const started = performance.now();
      await session.query("SAVEPOINT maigate_file");
      const notes = foldNotes(file);
      const failure = await runStatements(
        session,
        file,
        (s) => !FOLDED.has(s.transactionControl ?? ""),
        explain,
        probe && ((st) => probe.after(session, file, st, true)),
        notes,
      );
      const durationMs = performance.now() - started;
      if (failure) {
        runs.push({ status: "failed", durationMs, ran: "transaction", locks: null, failure, notes });
        continue;
      }
      await probe?.afterFile?.(session, file, true);
      const locks = await newLocks(session, held);
      await session.query("RELEASE SAVEPOINT maigate_file");
      runs.push({ status: "applied", durationMs, ran: "transaction", locks, failure: null, notes });
    }
  } finally {
    await session.query(end === "COMMIT" && !runs.some((r) => r.status === "failed") ? "COMMIT" : "ROLLBACK");
  }
  return runs;
}

/**
 * Runs files for real, committing, as the app's migrator does: `per-file` wraps each file in its own
 * transaction, except files with statements that cannot run in one (those run statement by
 * statement, their own BEGIN/COMMIT included); `all` wraps every file in one transaction, where such
 * statements fail exactly as they would in production. For disposable clones and template builds.
 */
export async function runCommitting(
  session: ScratchSession,
  files: PreparedFile[],
  transaction: "per-file" | "all",
  explain: Explain,
  probe?: Probe,
): Promise<FileRun[]> {
  if (transaction === "all") return runInOneTransaction(session, files, explain, "COMMIT", probe);
  const runs: FileRun[] = [];
  await probe?.before(session, false);
  for (const file of files) {
    if (runs.some((r) => r.status === "failed")) {
      runs.push(notRun());
      continue;
    }
    runs.push(
      file.analysis.nonTransactional.length > 0
        ? await runAutocommit(session, file, explain, probe)
        : await runOwnTransaction(session, file, explain, probe),
    );
  }
  return runs;
}

async function runOwnTransaction(
  session: ScratchSession,
  file: PreparedFile,
  explain: Explain,
  probe?: Probe,
): Promise<FileRun> {
  const started = performance.now();
  const notes = foldNotes(file);
  await session.query("BEGIN");
  const failure = await runStatements(
    session,
    file,
    (s) => !FOLDED.has(s.transactionControl ?? ""),
    explain,
    probe && ((st) => probe.after(session, file, st, true)),
    notes,
  );
  if (!failure) await probe?.afterFile?.(session, file, true);
  const locks = failure ? null : await newLocks(session, new Set());
  await session.query(failure ? "ROLLBACK" : "COMMIT");
  const durationMs = performance.now() - started;
  return {
    status: failure ? "failed" : "applied",
    durationMs,
    ran: "transaction",
    locks,
    failure,
    notes,
  };
}

async function runAutocommit(
  session: ScratchSession,
  file: PreparedFile,
  explain: Explain,
  probe?: Probe,
): Promise<FileRun> {
  const started = performance.now();
  // The probe must know whether the file's own BEGIN … COMMIT is open: inside it, savepoints.
  let open = false;
  const reasons = [...new Set(file.analysis.nonTransactional.map((s) => s.nonTransactional))].join(", ");
  const notes = [
    `ran statement by statement outside a transaction (${reasons}) on a disposable clone; locks are not observable`,
  ];
  const failure = await runStatements(
    session,
    file,
    () => true,
    explain,
    async (st) => {
      if (st.transactionControl === "begin") open = true;
      else if (st.transactionControl) open = false;
      await probe?.after(session, file, st, open);
    },
    notes,
  );
  if (failure) await session.query("ROLLBACK").catch(() => undefined);
  else await probe?.afterFile?.(session, file, open);
  return {
    status: failure ? "failed" : "applied",
    durationMs: performance.now() - started,
    ran: "autocommit",
    locks: null,
    failure,
    notes,
  };
}

async function runStatements(
  session: ScratchSession,
  file: PreparedFile,
  include: (s: SqlStatement) => boolean,
  explain: Explain,
  after: ((statement: SqlStatement) => Promise<void>) | undefined,
  notes: string[],
): Promise<FailureReport | null> {
  for (const statement of file.analysis.statements) {
    if (!include(statement)) continue;
    let outcome: Awaited<ReturnType<ScratchSession["query"]>>;
    try {
      outcome = await session.query(statement.text);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      return failureOf(err, file, statement, explain);
    }
    const data = dataNote(statement, outcome.rowCount);
    if (data) notes.push(data);
    await after?.(statement);
  }
  return null;
}

const DATA_STATEMENTS: Record<string, string> = {
  UpdateStmt: "UPDATE",
  DeleteStmt: "DELETE",
  InsertStmt: "INSERT",
  MergeStmt: "MERGE",
};

/**
 * What a rehearsal on a clone of the schema cannot say: a statement that changes rows ran on empty
 * (or template) tables, so how it treats production's data — and how long it takes there — was not
 * rehearsed. The answer says so with the rows it touched here.
 */
function dataNote(statement: SqlStatement, rowCount: number | null | undefined): string | null {
  const verb = DATA_STATEMENTS[statement.kind];
  if (!verb) return null;
  const touched = rowCount === null || rowCount === undefined ? "" : ` touched ${rowCount} row(s) here`;
  return `line ${statement.line}: this ${verb}${touched} — the clone has production's schema, not its rows: what it does to production's data (and how long it takes there) is not rehearsed`;
}

/** The database's error placed on the file's line and column, with an explanation where one exists. */
export function failureOf(
  err: unknown,
  file: PreparedFile,
  statement: SqlStatement,
  explain: Explain,
): FailureReport {
  const e = err as {
    code?: string;
    message?: string;
    detail?: string;
    hint?: string;
    position?: string | number;
  };
  const position = Number(e.position);
  const at =
    Number.isInteger(position) && position > 0
      ? lineColumnAt(file.text, statement.offset + position - 1)
      : { line: statement.line, column: statement.column };
  const message = e.message ?? String(err);
  const sqlstate = e.code ?? null;
  return {
    path: file.path,
    ...at,
    statement: statement.text,
    sqlstate,
    message,
    detail: e.detail ?? null,
    hint: e.hint ?? null,
    explanation: sqlstate ? explain({ sqlstate, message }) : null,
  };
}

/** Locks taken since the last read, grouped by mode. */
async function newLocks(session: ScratchSession, held: Set<string>): Promise<LockSummary> {
  const { rows } = await session.query(LOCKS_SQL);
  const summary: LockSummary = {};
  for (const row of rows) {
    const relation = `${String(row.schema)}.${String(row.relation)}`;
    const mode = String(row.mode);
    const key = `${mode}|${relation}`;
    if (held.has(key)) continue;
    held.add(key);
    summary[mode] = [...(summary[mode] ?? []), relation];
  }
  for (const list of Object.values(summary)) list.sort();
  return summary;
}

function foldNotes(file: PreparedFile): string[] {
  return file.analysis.ownTransaction
    ? ["the file's own BEGIN/COMMIT were folded into the one transaction the file runs in"]
    : [];
}

function notRun(): FileRun {
  return {
    status: "not_run",
    durationMs: null,
    ran: null,
    locks: null,
    failure: null,
    notes: ["not run: an earlier file failed"],
  };
}
