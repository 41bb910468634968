import type { CompletionRecord, DryRunRecord, LeaseRow, LiveSeen, SuiteRunRecord } from "./types.js";

/**
 * Rows of the evidence tables as both backends return them (SQLite gives flags as 0/1, PostgreSQL
 * as booleans; JSON columns come back as text in both), and their mapping to records.
 */
export interface LeaseRecord {
  id: string;
  version: number;
  name: string;
  request_name: string;
  seq: number;
  files: string;
  worker: string;
  branch: string | null;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
  end_reason: LeaseRow["endReason"];
  ended_by: string | null;
  end_note: string | null;
  prod_checked: boolean | number;
  moved_to: string | null;
}

export interface DryRunRow {
  id: string;
  file: string;
  worker: string;
  branch: string | null;
  version: number | null;
  name: string | null;
  sha256: string;
  baseline_id: string;
  template_key: string | null;
  engine: string;
  outcome: DryRunRecord["outcome"];
  report: string;
  created_at: number;
}

export interface SuiteRunRow {
  id: string;
  worker: string;
  branch: string | null;
  profile: string;
  tree: string;
  head: string;
  suite_hash: string;
  dirty: boolean | number;
  state: SuiteRunRecord["state"];
  steps: string;
  pid: number;
  host: string | null;
  checkout: string | null;
  live?: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface CompletionRow {
  id: string;
  worker: string;
  branch: string;
  head: string;
  tree: string;
  summary: string;
  evidence: string;
  reported: boolean | number;
  reporter: string | null;
  created_at: number;
}

const flag = (v: boolean | number): boolean => v === true || v === 1;

export function dryRunFromRow(r: DryRunRow): DryRunRecord {
  return {
    runId: r.id,
    file: r.file,
    worker: r.worker,
    branch: r.branch,
    version: r.version,
    name: r.name,
    sha256: r.sha256,
    baselineId: r.baseline_id,
    templateKey: r.template_key,
    engine: r.engine,
    outcome: r.outcome,
    report: JSON.parse(r.report) as unknown,
    createdAt: r.created_at,
  };
}

export function suiteRunFromRow(r: SuiteRunRow): SuiteRunRecord {
  return {
    id: r.id,
    worker: r.worker,
    branch: r.branch,
    profile: r.profile,
    tree: r.tree,
    head: r.head,
    suiteHash: r.suite_hash,
    dirty: flag(r.dirty),
    state: r.state,
    steps: JSON.parse(r.steps) as unknown,
    pid: r.pid,
    host: r.host,
    checkout:
      r.checkout === null || r.checkout === undefined
        ? null
        : (JSON.parse(r.checkout) as SuiteRunRecord["checkout"]),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    live: r.live === null || r.live === undefined ? null : (JSON.parse(r.live) as LiveSeen),
  };
}

export function completionFromRow(r: CompletionRow): CompletionRecord {
  return {
    id: r.id,
    worker: r.worker,
    branch: r.branch,
    head: r.head,
    tree: r.tree,
    summary: r.summary,
    evidence: JSON.parse(r.evidence) as unknown,
    reported: flag(r.reported),
    reporter: r.reporter === null ? null : (JSON.parse(r.reporter) as unknown),
    createdAt: r.created_at,
  };
}

export function leaseFromRow(r: LeaseRecord): LeaseRow {
  return {
    id: r.id,
    version: r.version,
    name: r.name,
    requestName: r.request_name,
    seq: r.seq,
    files: JSON.parse(r.files) as string[],
    worker: r.worker,
    branch: r.branch,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
    endedBy: r.ended_by,
    endNote: r.end_note,
    prodChecked: flag(r.prod_checked),
    movedTo: r.moved_to,
  };
}
