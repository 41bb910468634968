import type { PreparedFile, Probe } from "../dryrun/apply.js";
import type { ScratchSession } from "../dryrun/engine.js";
import { CancelledError } from "../errors.js";

/** A query that prepared before the branch's files and fails after one of them. */
export interface BrokenQuery {
  /** Index into the queries given to `prepareProbe`. */
  index: number;
  /** The file after which it first failed. */
  path: string;
  sqlstate: string;
  /** The clone's message (about the schema; the clone holds no rows). */
  message: string;
}

export interface PrepareOutcome {
  /** Indexes of queries that did not prepare on the state before the branch's files: not its doing. */
  failingBefore: number[];
  broken: BrokenQuery[];
  /** The pass itself could not run (say, no PL/pgSQL on the clone): the check is not verified. */
  error: string | null;
}

/**
 * One pass prepares every listed query (parse and analysis, never execution) and deallocates it, each
 * in a subtransaction of its own; the whole pass is then undone, so the locks the analysis took are
 * released and the rehearsal's lock report stays the migration's. Results leave through a setting.
 * The query texts reach the server as data (a setting), never as part of this statement's text.
 */
const PASS = `DO $maigate$
DECLARE
  queries jsonb := current_setting('maigate.queries')::jsonb;
  todo jsonb := current_setting('maigate.todo')::jsonb;
  failed jsonb := '{}';
  i int;
BEGIN
  BEGIN
    FOR i IN SELECT jsonb_array_elements_text(todo)::int LOOP
      BEGIN
        EXECUTE format('PREPARE maigate_q%s AS %s', i, queries ->> i);
        EXECUTE format('DEALLOCATE maigate_q%s', i);
      EXCEPTION WHEN OTHERS THEN
        failed := failed || jsonb_build_object(i::text, jsonb_build_array(SQLSTATE, SQLERRM));
      END;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'MGU01';
  EXCEPTION WHEN SQLSTATE 'MGU01' THEN
    NULL;
  END;
  PERFORM set_config('maigate.failed', failed::text, false);
END
$maigate$`;

/** A string literal that reads the same whatever `standard_conforming_strings` says. */
export function escapeLiteral(text: string): string {
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

async function setting(session: ScratchSession, name: string, value: string): Promise<void> {
  await session.query(`SELECT set_config('${name}', ${escapeLiteral(value)}, false)`);
}

/**
 * Prepares the queries at `todo`; answers the failures by index. Inside the rehearsal's transaction
 * the pass runs under a savepoint, so even a pass that fails as a whole leaves the transaction usable.
 */
async function pass(
  session: ScratchSession,
  todo: number[],
  inTransaction: boolean,
): Promise<Map<number, [string, string]>> {
  if (todo.length === 0) return new Map();
  await setting(session, "maigate.todo", JSON.stringify(todo));
  if (inTransaction) await session.query("SAVEPOINT maigate_prepare");
  try {
    await session.query(PASS);
  } catch (err) {
    if (inTransaction) await session.query("ROLLBACK TO SAVEPOINT maigate_prepare");
    throw err;
  } finally {
    if (inTransaction) await session.query("RELEASE SAVEPOINT maigate_prepare");
  }
  const { rows } = await session.query("SELECT current_setting('maigate.failed') AS failed");
  const failed = JSON.parse(String(rows[0]?.failed ?? "{}")) as Record<string, [string, string]>;
  return new Map(Object.entries(failed).map(([i, e]) => [Number(i), e]));
}

/**
 * Live-binary compatibility on the clone: every query is prepared on the state before the branch's
 * files (main's pending migrations included), then, of those that prepared, again after each file.
 * A query that fails after a file is broken by that file.
 */
export function prepareProbe(queries: string[]): { probe: Probe; outcome: () => PrepareOutcome } {
  const out: PrepareOutcome = { failingBefore: [], broken: [], error: null };
  let ok: number[] = [];
  const guarded = async (fn: () => Promise<void>) => {
    if (out.error !== null) return;
    try {
      await fn();
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      out.error = (err as { message?: string }).message ?? String(err);
      ok = [];
    }
  };
  const probe: Probe = {
    before: (session, inTransaction) =>
      guarded(async () => {
        await setting(session, "maigate.queries", JSON.stringify(queries));
        const all = queries.map((_, i) => i);
        const failed = await pass(session, all, inTransaction);
        out.failingBefore = [...failed.keys()].sort((a, b) => a - b);
        ok = queries.map((_, i) => i).filter((i) => !failed.has(i));
      }),
    after: async () => undefined,
    afterFile: (session, file: PreparedFile, inTransaction) =>
      guarded(async () => {
        const failed = await pass(session, ok, inTransaction);
        for (const [index, [sqlstate, message]] of failed)
          out.broken.push({ index, path: file.path, sqlstate, message });
        ok = ok.filter((i) => !failed.has(i));
      }),
  };
  return { probe, outcome: () => ({ ...out, broken: [...out.broken] }) };
}
