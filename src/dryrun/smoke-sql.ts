import type { PreparedFile, Probe } from "./apply.js";
import type { ScratchSession } from "./engine.js";
import type { SqlStatement } from "./sql.js";

/** One `smoke_sql` query's outcome in a rehearsal. */
export interface SmokeOutcome {
  query: string;
  /** passed: it ran before and after every statement; broken: a branch statement broke it; failing_before: it already failed. */
  status: "passed" | "broken" | "failing_before";
  error: string | null;
  /** The statement after which it first failed. */
  brokenBy: { path: string; line: number; statement: string } | null;
}

/**
 * `smoke_sql` in the rehearsal: each query runs once on the template state, then after every
 * statement of the branch's files, each time undone (a savepoint inside a transaction, a read-only
 * transaction of its own outside one). A query that ran before and fails after a statement is
 * broken by that statement; one that already failed is not the branch's doing and is only said.
 */
export function smokeProbe(queries: string[]): { probe: Probe; outcomes: () => SmokeOutcome[] } {
  const state: SmokeOutcome[] = queries.map((query) => ({
    query,
    status: "passed",
    error: null,
    brokenBy: null,
  }));
  const probe: Probe = {
    async before(session, inTransaction) {
      for (const o of state) {
        const error = await attempt(session, o.query, inTransaction);
        if (error !== null) Object.assign(o, { status: "failing_before", error });
      }
    },
    async after(session, file, statement, inTransaction) {
      for (const o of state) {
        if (o.status !== "passed") continue;
        const error = await attempt(session, o.query, inTransaction);
        if (error !== null) Object.assign(o, { status: "broken", error, brokenBy: where(file, statement) });
      }
    },
  };
  return { probe, outcomes: () => state.map((o) => ({ ...o })) };
}

function where(file: PreparedFile, statement: SqlStatement) {
  return { path: file.path, line: statement.line, statement: statement.text.slice(0, 500) };
}

/** Runs `query` and undoes it; answers the error message, or null when it ran. */
async function attempt(
  session: ScratchSession,
  query: string,
  inTransaction: boolean,
): Promise<string | null> {
  const [open, undo] = inTransaction
    ? ["SAVEPOINT maigate_smoke", "ROLLBACK TO SAVEPOINT maigate_smoke"]
    : ["BEGIN TRANSACTION READ ONLY", "ROLLBACK"];
  await session.query(open);
  try {
    await session.query(query);
    return null;
  } catch (err) {
    return (err as { message?: string }).message ?? String(err);
  } finally {
    await session.query(undo);
    if (inTransaction) await session.query("RELEASE SAVEPOINT maigate_smoke");
  }
}
