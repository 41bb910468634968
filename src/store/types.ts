/** Why a lease stopped holding its version. */
export type EndReason = "released" | "expired" | "moved" | "revoked";

export interface LeaseRow {
  id: string;
  version: number;
  /** The migration name in the file name (`add_index`, or `add_index_2` for the second of a count). */
  name: string;
  /** The name the worker asked for: with `worker`, the idempotency key. */
  requestName: string;
  /** 1-based position within a multi-version reservation. */
  seq: number;
  /** Paths to create, relative to the repository root. */
  files: string[];
  worker: string;
  branch: string | null;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  endedBy: string | null;
  endNote: string | null;
  /** False when production could not be read at reservation time: the gate re-checks it. */
  prodChecked: boolean;
  /** For a moved lease, the id of the lease that replaced it. */
  movedTo: string | null;
}

export interface EventInput {
  actor: string;
  role: string;
  action: string;
  subject: string;
  detail?: unknown;
}

export interface EventRow extends EventInput {
  id: number;
  at: number;
}

export interface LeaseEnd {
  id: string;
  reason: EndReason;
  by: string;
  note: string | null;
  movedTo?: string;
}

/** One file's outcome in one dry run: the evidence the completion gate looks up by content. */
export interface DryRunRecord {
  runId: string;
  /** Path relative to the repository root. */
  file: string;
  worker: string;
  branch: string | null;
  version: number | null;
  name: string | null;
  sha256: string;
  baselineId: string;
  templateKey: string | null;
  engine: string;
  outcome: "passed" | "failed" | "not_run";
  report: unknown;
  createdAt: number;
}

export interface DryRunQuery {
  sha256?: string;
  /** Path relative to the repository root. */
  file?: string;
  worker?: string;
  runId?: string;
  limit: number;
}

export type SuiteState = "running" | "passed" | "failed" | "cancelled" | "interrupted";

/** Where a suite run ran: a clean checkout of the commit made for it, with the paths linked in. */
export interface SuiteCheckout {
  kind: "clean";
  /** Worktree paths a step declared in `share:`, linked into the checkout (they are not in git). */
  shared: string[];
}

/**
 * What the live site's health endpoint said when a smoke run started: the sha it runs, whether it
 * answered ready, or why it could not be asked.
 */
export interface LiveSeen {
  checkedAt: number;
  /** null: the health endpoint could not be asked (see `error`). */
  up: boolean | null;
  sha: string | null;
  status: number | null;
  /** Why it counts as down, or why it could not be asked. */
  error: string | null;
}

/** One run of a suite profile on one tree: the evidence the gate and deploy status read. */
export interface SuiteRunRecord {
  id: string;
  worker: string;
  branch: string | null;
  profile: string;
  /** Tree hash of HEAD when the run started. */
  tree: string;
  head: string;
  /** Hash of the profile's step definitions. */
  suiteHash: string;
  /** The worktree had uncommitted changes when it ran (they were not part of the run). */
  dirty: boolean;
  /** A clean checkout of the commit; null for a run in the worker's own files (not evidence). */
  checkout: SuiteCheckout | null;
  state: SuiteState;
  steps: unknown;
  /** The server process running it, and its host, to tell a crashed run from a live one. */
  pid: number;
  host: string | null;
  startedAt: number;
  finishedAt: number | null;
  /** Smoke runs: what was live when the run started; null when no health URL is configured. */
  live?: LiveSeen | null;
}

export interface SuiteRunQuery {
  id?: string;
  tree?: string;
  suiteHash?: string;
  profile?: string;
  state?: SuiteState;
  dirty?: boolean;
  limit: number;
}

/** A worker's reported completion: the gate was green for this HEAD, with the evidence it used. */
export interface CompletionRecord {
  id: string;
  worker: string;
  branch: string;
  head: string;
  tree: string;
  summary: string;
  /** Ids of the suite run and dry runs the gate accepted. */
  evidence: unknown;
  /** The reporter command ran and succeeded. */
  reported: boolean;
  /** The reporter's outcome (exit code, tail), when it ran. */
  reporter: unknown;
  createdAt: number;
}

/** What a decision inside a state transaction wants written. Applied atomically, or not at all. */
export interface Plan<T> {
  insert?: LeaseRow[];
  end?: LeaseEnd[];
  renew?: { id: string; expiresAt: number }[];
  events?: EventInput[];
  result: T;
}

/** What a decision sees: every open lease, and the leases it asked for by id (open or ended). */
export interface Snapshot {
  open: LeaseRow[];
  requested: Map<string, LeaseRow>;
}

/**
 * The state backend. `transact` runs `decide` under the allocation lock (SQLite: `BEGIN IMMEDIATE`)
 * on a fresh snapshot and writes its plan plus its audit events in the same transaction.
 */
export interface StateStore {
  readonly location: string;
  transact<T>(now: number, ids: string[], decide: (snapshot: Snapshot) => Plan<T>): Promise<T>;
  listLeases(options: { includeEnded: boolean; worker?: string; limit: number }): Promise<LeaseRow[]>;
  /** A small shared value (e.g. a cached deploy status) and when it was written. */
  getShared(key: string): Promise<{ value: string; at: number } | null>;
  setShared(key: string, value: string, at: number): Promise<void>;
  /** True for exactly one caller per interval across processes: used to throttle `git fetch`. */
  claimInterval(key: string, intervalMs: number, now: number): Promise<boolean>;
  events(options: { limit: number; subject?: string }): Promise<EventRow[]>;
  /** Records a dry run's per-file outcomes and its audit event in one transaction. */
  recordDryRun(records: DryRunRecord[], event: EventInput): Promise<void>;
  dryRuns(query: DryRunQuery): Promise<DryRunRecord[]>;
  /** Inserts or updates a suite run (by id), with an audit event when given. */
  saveSuiteRun(run: SuiteRunRecord, event?: EventInput): Promise<void>;
  /** Newest first. */
  suiteRuns(query: SuiteRunQuery): Promise<SuiteRunRecord[]>;
  /** Inserts or updates a completion (by id), with its audit event. */
  saveCompletion(completion: CompletionRecord, event: EventInput): Promise<void>;
  /** Newest first. */
  completions(query: { worker?: string; head?: string; limit: number }): Promise<CompletionRecord[]>;
  /** Marks `running` runs whose process is gone as `interrupted`; answers their ids. */
  interruptSuiteRuns(isAlive: (pid: number, host: string | null) => boolean, now: number): Promise<string[]>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
