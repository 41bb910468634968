import { MaiGateError } from "../errors.js";

/**
 * Where dry runs happen: a scratch PostgreSQL server (templates and clones are databases) or
 * embedded PGlite (templates and clones are in-process instances). The runner speaks only this.
 */

/** One executed statement's rows. */
export interface QueryOutcome {
  rows: Record<string, unknown>[];
  /** Rows the statement inserted, updated or deleted, where the engine says (null otherwise). */
  rowCount?: number | null;
}

/**
 * A connection to one scratch database. `query` runs ONE statement over the simple query protocol
 * and rejects with the server's error (fields `code`, `message`, `detail`, `hint`, `position`).
 */
export interface ScratchSession {
  query(sql: string): Promise<QueryOutcome>;
  /** Asks the server to cancel the statement running now, if the engine can (PostgreSQL can). */
  cancel?(): Promise<void>;
}

/**
 * How to build a chain of templates. `keys[0]` is the baseline's content key; `keys[i]` is the
 * baseline plus steps 1..i (main's pending migrations). Only the base and the last key are kept as
 * templates; when main gains a migration, the new last template is built from the previous one.
 */
export interface TemplateSpec {
  keys: string[];
  /** Statements run on the empty database before `buildBase`, on the admin connection when there is one. */
  prelude?: string[];
  /**
   * Extensions the rehearsal's SQL creates (baseline, main's and the branch's files). PGlite loads
   * them at construction, so its templates are kept per set; a server engine ignores it.
   */
  extensions?: string[];
  /** Builds the baseline on an empty database. */
  buildBase(session: ScratchSession): Promise<void>;
  /** Applies step i (1-based): turns the state of keys[i-1] into keys[i]. */
  applyStep(session: ScratchSession, step: number): Promise<void>;
}

export interface TemplateOutcome {
  key: string;
  /**
   * cached: it existed; snapshot: loaded from a snapshot an earlier process saved; otherwise the
   * index of the key it was built from (-1: from empty).
   */
  builtFrom: "cached" | "snapshot" | number;
  /** The engine's name for the template to clone, when it is not `key` (PGlite: key plus extensions). */
  instance?: string;
  ms: number;
}

export interface ScratchEngine {
  readonly kind: "postgres" | "pglite";
  /** Human sentences: what a report from this engine cannot observe. */
  readonly limitations: string[];
  /** `server_version_num` of the scratch server (e.g. 150020). */
  serverVersionNum(): Promise<number>;
  /** Ensures the template for `spec.keys.at(-1)` exists, building from the deepest existing ancestor. */
  ensureTemplate(spec: TemplateSpec): Promise<TemplateOutcome>;
  /**
   * Runs `fn` on an exclusive session of a warm clone of template `key`. The caller opens a
   * transaction and rolls it back; the engine issues a ROLLBACK afterwards in any case.
   */
  withWarmClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T>;
  /** Runs `fn` on a fresh clone of template `key`, dropped afterwards even when `fn` fails. */
  withDisposableClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T>;
  /** Removes leftovers of crashed runs; answers the names removed. Only `maigate_` names, ever. */
  janitor(): Promise<string[]>;
  /** The scratch databases it keeps, with sizes and last use (a server engine; for mai-gate doctor). */
  inventory?(): Promise<{ name: string; kind: string; bytes: number; lastUsed: number | null }[]>;
  close(): Promise<void>;
}

/** Every scratch database mai-gate creates starts with this; nothing else is ever dropped. */
export const SCRATCH_PREFIX = "maigate_";

export class ScratchError extends MaiGateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("scratch", message, options);
  }
}

/**
 * This engine cannot rehearse the SQL at all (say, an extension the embedded engine lacks): not a
 * verdict on the files, so nothing is recorded and the gate does not count it.
 */
export class RehearsalLimitError extends ScratchError {}
