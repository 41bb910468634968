import type Database from "better-sqlite3";
import {
  type CompletionRow,
  completionFromRow,
  type DryRunRow,
  dryRunFromRow,
  type SuiteRunRow,
  suiteRunFromRow,
} from "./rows.js";
import type {
  CompletionRecord,
  DryRunQuery,
  DryRunRecord,
  EventInput,
  SuiteRunQuery,
  SuiteRunRecord,
} from "./types.js";

/** The evidence tables (dry runs, suite runs) of the SQLite store. */
export class SqliteEvidence {
  constructor(
    private readonly db: Database.Database,
    private readonly writeEvent: (at: number, event: EventInput) => void,
  ) {}

  async recordDryRun(records: DryRunRecord[], event: EventInput): Promise<void> {
    const insert = this.db.prepare(`INSERT INTO dry_runs (id, file, worker, branch, version, name, sha256,
      baseline_id, template_key, engine, outcome, report, created_at) VALUES (@runId, @file, @worker, @branch,
      @version, @name, @sha256, @baselineId, @templateKey, @engine, @outcome, @report, @createdAt)`);
    const run = this.db.transaction(() => {
      for (const r of records) insert.run({ ...r, report: JSON.stringify(r.report) });
      this.writeEvent(records[0]?.createdAt ?? Date.now(), event);
    });
    run.immediate();
  }

  async dryRuns(query: DryRunQuery): Promise<DryRunRecord[]> {
    const { sql, params } = select("dry_runs", [
      ["sha256", query.sha256],
      ["file", query.file],
      ["worker", query.worker],
      ["id", query.runId],
    ]);
    const rows = this.db
      .prepare(`${sql} ORDER BY created_at DESC LIMIT ?`)
      .all(...params, query.limit) as DryRunRow[];
    return rows.map(dryRunFromRow);
  }

  async saveSuiteRun(run: SuiteRunRecord, event?: EventInput): Promise<void> {
    const upsert =
      this.db.prepare(`INSERT INTO suite_runs (id, worker, branch, profile, tree, head, suite_hash,
      dirty, state, steps, pid, host, checkout, live, started_at, finished_at) VALUES (@id, @worker, @branch,
      @profile, @tree, @head, @suiteHash, @dirty, @state, @steps, @pid, @host, @checkout, @live, @startedAt,
      @finishedAt)
      ON CONFLICT (id) DO UPDATE SET state = excluded.state, steps = excluded.steps, finished_at = excluded.finished_at`);
    const write = this.db.transaction(() => {
      upsert.run({
        ...run,
        dirty: run.dirty ? 1 : 0,
        steps: JSON.stringify(run.steps),
        checkout: run.checkout ? JSON.stringify(run.checkout) : null,
        live: run.live ? JSON.stringify(run.live) : null,
      });
      if (event) this.writeEvent(run.finishedAt ?? run.startedAt, event);
    });
    write.immediate();
  }

  async suiteRuns(query: SuiteRunQuery): Promise<SuiteRunRecord[]> {
    const { sql, params } = select("suite_runs", [
      ["id", query.id],
      ["tree", query.tree],
      ["suite_hash", query.suiteHash],
      ["profile", query.profile],
      ["state", query.state],
      ["dirty", query.dirty === undefined ? undefined : query.dirty ? 1 : 0],
    ]);
    const rows = this.db
      .prepare(`${sql} ORDER BY started_at DESC LIMIT ?`)
      .all(...params, query.limit) as SuiteRunRow[];
    return rows.map(suiteRunFromRow);
  }

  async saveCompletion(c: CompletionRecord, event: EventInput): Promise<void> {
    const upsert =
      this.db.prepare(`INSERT INTO completions (id, worker, branch, head, tree, summary, evidence,
      reported, reporter, created_at) VALUES (@id, @worker, @branch, @head, @tree, @summary, @evidence, @reported,
      @reporter, @createdAt) ON CONFLICT (id) DO UPDATE SET reported = excluded.reported, reporter = excluded.reporter`);
    const write = this.db.transaction(() => {
      upsert.run({
        ...c,
        evidence: JSON.stringify(c.evidence),
        reported: c.reported ? 1 : 0,
        reporter: c.reporter === undefined ? null : JSON.stringify(c.reporter),
      });
      this.writeEvent(c.createdAt, event);
    });
    write.immediate();
  }

  async completions(query: { worker?: string; head?: string; limit: number }): Promise<CompletionRecord[]> {
    const { sql, params } = select("completions", [
      ["worker", query.worker],
      ["head", query.head],
    ]);
    const rows = this.db
      .prepare(`${sql} ORDER BY created_at DESC LIMIT ?`)
      .all(...params, query.limit) as CompletionRow[];
    return rows.map(completionFromRow);
  }

  async interruptSuiteRuns(
    isAlive: (pid: number, host: string | null) => boolean,
    now: number,
  ): Promise<string[]> {
    const run = this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT id, pid, host FROM suite_runs WHERE state = 'running'")
        .all() as SuiteRunRow[];
      const dead = rows.filter((r) => !isAlive(r.pid, r.host)).map((r) => r.id);
      const mark = this.db.prepare(
        "UPDATE suite_runs SET state = 'interrupted', finished_at = ? WHERE id = ?",
      );
      for (const id of dead) mark.run(now, id);
      return dead;
    });
    return run.immediate();
  }
}

function select(
  table: string,
  filters: [string, string | number | undefined][],
): { sql: string; params: unknown[] } {
  const used = filters.filter(([, v]) => v !== undefined);
  const where = used.length > 0 ? ` WHERE ${used.map(([c]) => `${c} = ?`).join(" AND ")}` : "";
  return { sql: `SELECT * FROM ${table}${where}`, params: used.map(([, v]) => v) };
}
