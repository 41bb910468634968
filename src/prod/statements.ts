import { errorMessage } from "../errors.js";
import type { ProductionSource } from "./history.js";
import { ProductionReadError, quoteIdent } from "./read-only.js";

/** One statement production runs, as pg_stat_statements normalised it (`$1` for constants). */
export interface RecordedStatement {
  query: string;
  calls: number;
}

export type StatementsRead =
  | { status: "ok"; statements: RecordedStatement[]; hidden: boolean }
  | { status: "unavailable"; reason: string };

const GRANT = "grant pg_read_all_stats to the read-only role";

/**
 * The top `limit` statements by calls of production's database from pg_stat_statements, read-only.
 * Rows of several roles with one text are summed; the read-only role's own (mai-gate's reads, its
 * probes, pg_dump) are not the app's and are left out. `hidden`: some texts the role may not see
 * (`<insufficient privilege>`); when nothing is visible the answer says why.
 */
export async function readTopStatements(source: ProductionSource, limit: number): Promise<StatementsRead> {
  try {
    return await source.read("reading pg_stat_statements", async (query) => {
      const [ext] = await query<{ schema: string }>(
        "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'",
      );
      if (!ext)
        return unavailable(
          "pg_stat_statements is not installed in production's database (CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries)",
        );
      const rows = await query<{ query: string | null; calls: string }>(
        `SELECT s.query, sum(s.calls)::text AS calls FROM ${quoteIdent(ext.schema)}.pg_stat_statements s
          WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND s.userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
          GROUP BY s.query ORDER BY sum(s.calls) DESC LIMIT $1`,
        [limit * 2],
      );
      return visible(rows, limit);
    });
  } catch (err) {
    const code = err instanceof ProductionReadError ? err.sqlstate : null;
    if (code === "55000")
      return unavailable(
        "pg_stat_statements is installed but not loaded (add it to shared_preload_libraries)",
      );
    if (code === "42501") return unavailable(`the read-only role may not read pg_stat_statements (${GRANT})`);
    return unavailable(`pg_stat_statements could not be read: ${errorMessage(err)}`);
  }
}

function unavailable(reason: string): StatementsRead {
  return { status: "unavailable", reason };
}

/** The visible rows, at most `limit`; everything hidden means the role lacks the grant. */
function visible(rows: { query: string | null; calls: string }[], limit: number): StatementsRead {
  const hidden = rows.filter((r) => r.query === null || r.query === "<insufficient privilege>");
  const seen = rows.filter((r) => !hidden.includes(r));
  if (seen.length === 0 && hidden.length > 0)
    return unavailable(`pg_stat_statements hides other roles' statements from the read-only role (${GRANT})`);
  return {
    status: "ok",
    statements: seen.slice(0, limit).map((r) => ({ query: r.query ?? "", calls: Number(r.calls) })),
    hidden: hidden.length > 0,
  };
}

/** Whether the read-only role sees other roles' statements: for `mai-gate doctor`. */
export async function statementsAccess(source: ProductionSource): Promise<string> {
  const read = await readTopStatements(source, 5);
  if (read.status === "unavailable") throw new Error(read.reason);
  const [visibleAll] = await source.read("reading the role's memberships", (query) =>
    query<{ ok: boolean }>("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS ok"),
  );
  if (!visibleAll?.ok)
    throw new Error(
      `the read-only role sees only its own statements in pg_stat_statements, not the app's (${GRANT})`,
    );
  return `readable (${read.statements.length} statement(s) sampled)`;
}
