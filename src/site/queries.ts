import type { Deps } from "../deps.js";
import { readTopStatements } from "../prod/statements.js";
import type { RepoState } from "../repo/state.js";
import { QUERIES_MAX, queryNames, readQueryFiles } from "./query-files.js";
import type { AppQuery } from "./types.js";

export interface CollectedQueries {
  queries: AppQuery[];
  /** The names each query spells (same order as `queries`). */
  names: Set<string>[];
  /** Queries per source (`pg_stat_statements`, `query files`, `smoke_sql`). */
  sources: Record<string, number>;
  notes: string[];
}

/** What collecting the live app's queries uses of `Deps`. */
export type QueryDeps = Pick<Deps, "blobTexts" | "git" | "production">;

/**
 * The queries the live app runs: production's top `prod.queries.limit` statements by calls
 * (pg_stat_statements, read-only), the `dry_run.queries` files at `commit`, and `smoke_sql`. Only
 * single statements PREPARE accepts are kept, each text once (its most-called source).
 */
export async function collectQueries(
  ws: QueryDeps,
  state: RepoState,
  commit: string,
): Promise<CollectedQueries> {
  const { config } = state;
  const notes: string[] = [];
  const [recorded, files] = await Promise.all([
    fromProduction(ws, state, notes),
    readQueryFiles(ws, commit, config.dry_run.queries),
  ]);
  notes.push(...files.notes);
  const smoke = (config.smoke_sql ?? []).map((text) => ({ text, calls: null, source: "smoke_sql" }));
  const sources: Record<string, number> = {};
  const seen = new Set<string>();
  const queries: AppQuery[] = [];
  const names: Set<string>[] = [];
  for (const [source, list] of [
    ["pg_stat_statements", recorded],
    ["query files", files.queries],
    ["smoke_sql", smoke],
  ] as const) {
    for (const q of list) {
      const text = q.text.trim().replace(/;\s*$/, "");
      const key = text.replace(/\s+/g, " ");
      if (seen.has(key) || queries.length >= QUERIES_MAX) continue;
      const spelt = await queryNames(text);
      if (!spelt) continue;
      seen.add(key);
      queries.push({ ...q, text });
      names.push(spelt);
      sources[source] = (sources[source] ?? 0) + 1;
    }
  }
  return { queries, names, sources, notes };
}

async function fromProduction(ws: QueryDeps, state: RepoState, notes: string[]): Promise<AppQuery[]> {
  const limit = state.config.prod.queries.limit;
  if (limit === 0) return [];
  const source = state.production.status === "not_configured" ? null : ws.production(state.view.loaded);
  if (!source) {
    notes.push(
      "production is not configured: the live app's queries (pg_stat_statements) were not read; query files and smoke_sql were prepared",
    );
    return [];
  }
  const read = await readTopStatements(source, limit);
  if (read.status === "unavailable") {
    notes.push(
      `${read.reason}: the live app's queries were not read; query files and smoke_sql were prepared`,
    );
    return [];
  }
  if (read.hidden)
    notes.push(
      "pg_stat_statements hides some statements of other roles from the read-only role (grant it pg_read_all_stats)",
    );
  return read.statements.map((s) => ({ text: s.query, calls: s.calls, source: "pg_stat_statements" }));
}
