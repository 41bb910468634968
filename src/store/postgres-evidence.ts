import { limit, type PgDb, writeEvent } from "./postgres-db.js";
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

/** The evidence tables (dry runs, suite runs, completions) of the PostgreSQL store. */
export class PgEvidence {
  constructor(private readonly db: PgDb) {}

  async recordDryRun(records: DryRunRecord[], event: EventInput): Promise<void> {
    await this.db.transaction("recording the dry run failed", async (q) => {
      for (const r of records) {
        await q(
          `INSERT INTO mai_gate.dry_runs (id, file, worker, branch, version, name, sha256, baseline_id,
          template_key, engine, outcome, report, created_at)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            r.runId,
            r.file,
            r.worker,
            r.branch,
            r.version,
            r.name,
            r.sha256,
            r.baselineId,
            r.templateKey,
            r.engine,
            r.outcome,
            JSON.stringify(r.report),
            r.createdAt,
          ],
        );
      }
      await writeEvent(q, records[0]?.createdAt ?? Date.now(), event);
    });
  }

  async dryRuns(query: DryRunQuery): Promise<DryRunRecord[]> {
    const rows = await this.select<DryRunRow>(
      "reading dry runs failed",
      "dry_runs",
      "created_at",
      query.limit,
      [
        ["sha256", query.sha256],
        ["file", query.file],
        ["worker", query.worker],
        ["id", query.runId],
      ],
    );
    return rows.map(dryRunFromRow);
  }

  async saveSuiteRun(run: SuiteRunRecord, event?: EventInput): Promise<void> {
    await this.db.transaction("saving the suite run failed", async (q) => {
      await q(
        `INSERT INTO mai_gate.suite_runs (id, worker, branch, profile, tree, head, suite_hash, dirty, state,
        steps, pid, started_at, finished_at, host, checkout, live)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        ON CONFLICT (id) DO UPDATE SET state = excluded.state, steps = excluded.steps,
        finished_at = excluded.finished_at`,
        [
          run.id,
          run.worker,
          run.branch,
          run.profile,
          run.tree,
          run.head,
          run.suiteHash,
          run.dirty,
          run.state,
          JSON.stringify(run.steps),
          run.pid,
          run.startedAt,
          run.finishedAt,
          run.host,
          run.checkout ? JSON.stringify(run.checkout) : null,
          run.live ? JSON.stringify(run.live) : null,
        ],
      );
      if (event) await writeEvent(q, run.finishedAt ?? run.startedAt, event);
    });
  }

  async suiteRuns(query: SuiteRunQuery): Promise<SuiteRunRecord[]> {
    const rows = await this.select<SuiteRunRow>(
      "reading suite runs failed",
      "suite_runs",
      "started_at",
      query.limit,
      [
        ["id", query.id],
        ["tree", query.tree],
        ["suite_hash", query.suiteHash],
        ["profile", query.profile],
        ["state", query.state],
        ["dirty", query.dirty],
      ],
    );
    return rows.map(suiteRunFromRow);
  }

  async saveCompletion(c: CompletionRecord, event: EventInput): Promise<void> {
    await this.db.transaction("saving the completion failed", async (q) => {
      await q(
        `INSERT INTO mai_gate.completions (id, worker, branch, head, tree, summary, evidence, reported,
        reporter, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (id) DO UPDATE SET reported = excluded.reported, reporter = excluded.reporter`,
        [
          c.id,
          c.worker,
          c.branch,
          c.head,
          c.tree,
          c.summary,
          JSON.stringify(c.evidence),
          c.reported,
          c.reporter === undefined ? null : JSON.stringify(c.reporter),
          c.createdAt,
        ],
      );
      await writeEvent(q, c.createdAt, event);
    });
  }

  async completions(query: { worker?: string; head?: string; limit: number }): Promise<CompletionRecord[]> {
    const rows = await this.select<CompletionRow>(
      "reading completions failed",
      "completions",
      "created_at",
      query.limit,
      [
        ["worker", query.worker],
        ["head", query.head],
      ],
    );
    return rows.map(completionFromRow);
  }

  /** Locks the running rows, so two callers never both report one run. */
  async interruptSuiteRuns(
    isAlive: (pid: number, host: string | null) => boolean,
    now: number,
  ): Promise<string[]> {
    return this.db.transaction("marking interrupted suite runs failed", async (q) => {
      const rows = await q<{ id: string; pid: number; host: string | null }>(
        "SELECT id, pid, host FROM mai_gate.suite_runs WHERE state = 'running' FOR UPDATE",
      );
      const dead = rows.filter((r) => !isAlive(r.pid, r.host)).map((r) => r.id);
      if (dead.length > 0) {
        await q(
          "UPDATE mai_gate.suite_runs SET state = 'interrupted', finished_at = $1 WHERE id = ANY($2::text[])",
          [now, dead],
        );
      }
      return dead;
    });
  }

  /** Rows matching every defined filter, newest first. */
  private select<R>(
    what: string,
    table: string,
    newest: string,
    max: number,
    filters: [string, string | boolean | undefined][],
  ): Promise<R[]> {
    const used = filters.filter(([, v]) => v !== undefined);
    const where = used.map(([c], i) => `${c} = $${i + 1}`).join(" AND ");
    const sql = `SELECT * FROM mai_gate.${table}${where ? ` WHERE ${where}` : ""}
      ORDER BY ${newest} DESC LIMIT $${used.length + 1}`;
    return this.db.query<R>(what, sql, [...used.map(([, v]) => v), limit(max)]);
  }
}
