import type { Deps } from "../deps.js";
import { type PreparedFile, type Probe, probes } from "../dryrun/apply.js";
import { indexSchemaChanges, type SchemaChange } from "../dryrun/explain.js";
import { errorMessage } from "../errors.js";
import { readTableSizes, type TableSize } from "../prod/sizes.js";
import type { RepoState } from "../repo/state.js";
import { type Ack, readAcks } from "./acks.js";
import { dataFindings } from "./data-findings.js";
import { liveBinaryFindings } from "./live-binary.js";
import { lockFindings } from "./lock-impact.js";
import { lockWatch } from "./lock-watch.js";
import { branchScope, inScope } from "./names.js";
import { prepareProbe } from "./prepare.js";
import { probePlans } from "./probe-plans.js";
import { runProbe } from "./probe-run.js";
import { type CollectedQueries, collectQueries, type QueryDeps } from "./queries.js";
import { BLOCKING } from "./statement-work.js";
import { type AppQuery, emptySiteReport, type SiteFinding, type SiteReport } from "./types.js";

/** What site safety uses of `Deps`. */
export type SiteDeps = QueryDeps & Pick<Deps, "probeSource">;

/** Probes a rehearsal runs on production at most (each a read-only transaction with a timeout). */
export const MAX_PROBES = 50;

/**
 * Site safety for one rehearsal, in three steps: `start` reads what production tells (its queries)
 * while the baseline is resolved; `probe` watches the clone (queries prepared before and after each
 * file, every statement's locks and rewrites); `finish` joins what the clone showed with production's
 * table sizes and turns it into findings.
 */
export class SiteRehearsal {
  private readonly queries: Promise<CollectedQueries>;
  /** `dry_run.site_safety`: off, the rehearsal is what it was before site safety. */
  readonly enabled: boolean;
  private prepare: ReturnType<typeof prepareProbe> | null = null;
  private prefetched: Promise<{ asked: Set<string>; sizes: TableSize[] } | null> = Promise.resolve(null);
  /** The collected queries that name what the branch changes: the ones prepared. */
  private relevant: AppQuery[] = [];
  private locks: ReturnType<typeof lockWatch> | null = null;
  private data: Promise<{ findings: SiteFinding[]; notes: string[] }> = Promise.resolve({
    findings: [],
    notes: [],
  });

  constructor(
    private readonly ws: SiteDeps,
    private readonly state: RepoState,
    commit: string,
  ) {
    this.enabled = state.config.dry_run.site_safety;
    const none: CollectedQueries = { queries: [], names: [], sources: {}, notes: [] };
    if (!this.enabled) {
      this.queries = Promise.resolve(none);
      return;
    }
    this.queries = collectQueries(ws, state, commit).catch((err: unknown) => ({
      ...none,
      notes: [`the live app's queries could not be collected: ${errorMessage(err)}`],
    }));
    // Surfaced in `finish`; an unobserved rejection must not crash the process meanwhile.
    this.queries.catch(() => undefined);
  }

  /**
   * Starts the data probes (`prod.probe`): each statement of `files` that validates existing rows is
   * asked of production, read-only, while the clone rehearses.
   */
  probeData(files: PreparedFile[]): void {
    const source = this.enabled ? this.ws.probeSource(this.state.view.loaded) : null;
    if (!source) return;
    const timeoutMs = this.state.config.prod.probe_timeout_ms;
    this.data = (async () => {
      const plans = probePlans(files);
      const notes =
        plans.length > MAX_PROBES
          ? [`${plans.length} statements validate rows: only the first ${MAX_PROBES} were probed`]
          : [];
      if (plans.length === 0) return { findings: [], notes };
      const serverVersionNum = await source.serverVersionNum();
      const entries = [];
      for (const plan of plans.slice(0, MAX_PROBES))
        entries.push({ plan, result: await runProbe(source, plan, { timeoutMs, serverVersionNum }) });
      return { findings: dataFindings(entries), notes };
    })().catch((err: unknown) => ({
      findings: [],
      notes: [`the data probes could not run on production: ${errorMessage(err)}`],
    }));
  }

  /**
   * The clone-side probe for `files`: the live queries that name what they change, prepared before and
   * after each file (see names.ts), and the lock watch.
   */
  async probe(files: PreparedFile[]): Promise<Probe | undefined> {
    if (!this.enabled) return undefined;
    const { queries, names } = await this.queries;
    this.prefetch(files);
    const scope = branchScope(files);
    this.relevant = queries.filter((_, i) => inScope(names[i]!, scope));
    this.prepare = this.relevant.length > 0 ? prepareProbe(this.relevant.map((q) => q.text)) : null;
    this.locks = lockWatch(this.state.config.migrations.transaction === "all");
    return probes(this.prepare?.probe, this.locks.probe);
  }

  /** Findings from what the clone showed; `files` are the branch's, in the order they ran. */
  async finish(files: PreparedFile[], ran: boolean): Promise<SiteReport> {
    const report = emptySiteReport();
    const collected = await this.queries;
    report.notes.push(...collected.notes);
    if (!ran) return report;
    const data = await this.data;
    report.findings.push(...data.findings);
    report.notes.push(...data.notes);
    const acks = new Map<string, Ack[]>(files.map((f) => [f.path, readAcks(f.text)]));
    report.queries = { ...report.queries, sources: collected.sources, collected: collected.queries.length };
    if (this.prepare) {
      const outcome = this.prepare.outcome();
      if (outcome.error)
        report.notes.push(`the live app's queries could not be prepared on the clone: ${outcome.error}`);
      report.queries.prepared = this.relevant.length;
      report.queries.failingBefore = outcome.failingBefore.length;
      const changes = await branchChanges(files);
      report.findings.push(...liveBinaryFindings({ queries: this.relevant, outcome, changes, acks }));
    }
    const impacts = (this.locks?.impacts() ?? []).filter((i) => BLOCKING.has(i.mode));
    if (impacts.length > 0) {
      const sizes = await this.sizes([...new Set(impacts.map((i) => i.table))], report.notes);
      const maxRows = this.state.config.dry_run.lock.max_rows;
      report.findings.push(...lockFindings({ impacts, sizes, acks, maxRows }));
    }
    return report;
  }

  /**
   * Production's sizes of `tables`. The tables the branch's statements name were asked for while the
   * clone rehearsed (`prefetch`); only a table the clone found and they did not name costs a read now.
   */
  private async sizes(tables: string[], notes: string[]): Promise<TableSize[]> {
    const early = (await this.prefetched) ?? { asked: new Set<string>(), sizes: [] };
    const missing = tables.filter((t) => !early.asked.has(t));
    if (missing.length === 0) return early.sizes;
    const source = this.productionSource();
    if (!source) {
      notes.push("production is not configured: lock impact could not be weighed by its table sizes");
      return early.sizes;
    }
    try {
      return [...early.sizes, ...(await readTableSizes(source, missing))];
    } catch (err) {
      notes.push(
        `production's table sizes could not be read, so lock impact is not verified: ${errorMessage(err)}`,
      );
      return early.sizes;
    }
  }

  private productionSource() {
    return this.state.production.status === "not_configured"
      ? null
      : this.ws.production(this.state.view.loaded);
  }

  /** Starts reading the sizes of the tables the branch's statements name, beside the rehearsal. */
  private prefetch(files: PreparedFile[]): void {
    const source = this.productionSource();
    const tables = [
      ...new Set(files.flatMap((f) => f.analysis.statements.flatMap((st) => namedTables(st.ast)))),
    ];
    if (!source || tables.length === 0) return;
    this.prefetched = readTableSizes(source, tables)
      .then((sizes) => ({ asked: new Set(tables), sizes }))
      .catch(() => null);
  }
}

/** `schema.table` of the relation a statement works on (`public` when unqualified). */
function namedTables(ast: Record<string, unknown>): string[] {
  const body = Object.values(ast)[0] as { relation?: { schemaname?: string; relname?: string } } | undefined;
  const r = body?.relation;
  return r?.relname ? [`${r.schemaname ?? "public"}.${r.relname}`] : [];
}

async function branchChanges(files: PreparedFile[]): Promise<Map<string, SchemaChange[]>> {
  const out = new Map<string, SchemaChange[]>();
  for (const f of files) {
    const changes = await indexSchemaChanges([
      { file: f.path.split("/").at(-1) ?? f.path, version: f.version ?? 0, sql: f.text },
    ]);
    out.set(f.path, changes);
  }
  return out;
}
