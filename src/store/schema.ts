/**
 * The state database's own migrations, applied in order at open. Append only: a released schema
 * step is never edited, a change is a new step.
 */
export interface SchemaStep {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_SCHEMA: SchemaStep[] = [
  {
    version: 1,
    name: "leases_events_meta",
    sql: `
      CREATE TABLE leases (
        id           TEXT PRIMARY KEY,
        version      INTEGER NOT NULL,
        name         TEXT NOT NULL,
        request_name TEXT NOT NULL,
        seq          INTEGER NOT NULL DEFAULT 1,
        files        TEXT NOT NULL,
        worker       TEXT NOT NULL,
        branch       TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        ended_at     INTEGER,
        end_reason   TEXT CHECK (end_reason IN ('released', 'expired', 'moved', 'revoked')),
        ended_by     TEXT,
        end_note     TEXT,
        prod_checked INTEGER NOT NULL,
        moved_to     TEXT
      );
      CREATE UNIQUE INDEX leases_open_version ON leases (version) WHERE ended_at IS NULL;
      CREATE INDEX leases_open_worker ON leases (worker, request_name) WHERE ended_at IS NULL;
      CREATE INDEX leases_created ON leases (created_at);
      CREATE TABLE events (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        role    TEXT NOT NULL,
        action  TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail  TEXT
      );
      CREATE INDEX events_subject ON events (subject);
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "dry_runs",
    sql: `
      CREATE TABLE dry_runs (
        id           TEXT NOT NULL,
        file         TEXT NOT NULL,
        worker       TEXT NOT NULL,
        branch       TEXT,
        version      INTEGER,
        name         TEXT,
        sha256       TEXT NOT NULL,
        baseline_id  TEXT NOT NULL,
        template_key TEXT,
        engine       TEXT NOT NULL,
        outcome      TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'not_run')),
        report       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (id, file)
      );
      CREATE INDEX dry_runs_content ON dry_runs (sha256, baseline_id);
      CREATE INDEX dry_runs_worker ON dry_runs (worker, created_at);
    `,
  },
  {
    version: 3,
    name: "suite_runs",
    sql: `
      CREATE TABLE suite_runs (
        id          TEXT PRIMARY KEY,
        worker      TEXT NOT NULL,
        branch      TEXT,
        profile     TEXT NOT NULL,
        tree        TEXT NOT NULL,
        head        TEXT NOT NULL,
        suite_hash  TEXT NOT NULL,
        dirty       INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('running', 'passed', 'failed', 'cancelled', 'interrupted')),
        steps       TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX suite_runs_tree ON suite_runs (tree, suite_hash, profile, state);
      CREATE INDEX suite_runs_profile ON suite_runs (profile, started_at);
    `,
  },
  {
    version: 4,
    name: "completions",
    sql: `
      CREATE TABLE completions (
        id         TEXT PRIMARY KEY,
        worker     TEXT NOT NULL,
        branch     TEXT NOT NULL,
        head       TEXT NOT NULL,
        tree       TEXT NOT NULL,
        summary    TEXT NOT NULL,
        evidence   TEXT NOT NULL,
        reported   INTEGER NOT NULL,
        reporter   TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX completions_worker ON completions (worker, head);
    `,
  },
  {
    version: 5,
    name: "suite_runs_host",
    sql: "ALTER TABLE suite_runs ADD COLUMN host TEXT;",
  },
  {
    version: 6,
    name: "suite_runs_checkout",
    sql: "ALTER TABLE suite_runs ADD COLUMN checkout TEXT;",
  },
];

/**
 * The same tables on PostgreSQL, in a schema of their own (`mai_gate`), with versions aligned with
 * `SQLITE_SCHEMA`. Timestamps (ms) and migration versions are `bigint`; JSON values are `json`, which
 * keeps the text as written (key order included), like SQLite's TEXT.
 */
export const POSTGRES_SCHEMA: SchemaStep[] = [
  {
    version: 1,
    name: "leases_events_meta",
    sql: `
      CREATE TABLE mai_gate.leases (
        id           text PRIMARY KEY,
        version      bigint NOT NULL,
        name         text NOT NULL,
        request_name text NOT NULL,
        seq          integer NOT NULL DEFAULT 1,
        files        json NOT NULL,
        worker       text NOT NULL,
        branch       text,
        created_at   bigint NOT NULL,
        expires_at   bigint NOT NULL,
        ended_at     bigint,
        end_reason   text CHECK (end_reason IN ('released', 'expired', 'moved', 'revoked')),
        ended_by     text,
        end_note     text,
        prod_checked boolean NOT NULL,
        moved_to     text
      );
      CREATE UNIQUE INDEX leases_open_version ON mai_gate.leases (version) WHERE ended_at IS NULL;
      CREATE INDEX leases_open_worker ON mai_gate.leases (worker, request_name) WHERE ended_at IS NULL;
      CREATE INDEX leases_created ON mai_gate.leases (created_at);
      CREATE TABLE mai_gate.events (
        id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at      bigint NOT NULL,
        actor   text NOT NULL,
        role    text NOT NULL,
        action  text NOT NULL,
        subject text NOT NULL,
        detail  json
      );
      CREATE INDEX events_subject ON mai_gate.events (subject);
      CREATE TABLE mai_gate.meta (
        key   text PRIMARY KEY,
        value text NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "dry_runs",
    sql: `
      CREATE TABLE mai_gate.dry_runs (
        id           text NOT NULL,
        file         text NOT NULL,
        worker       text NOT NULL,
        branch       text,
        version      bigint,
        name         text,
        sha256       text NOT NULL,
        baseline_id  text NOT NULL,
        template_key text,
        engine       text NOT NULL,
        outcome      text NOT NULL CHECK (outcome IN ('passed', 'failed', 'not_run')),
        report       json NOT NULL,
        created_at   bigint NOT NULL,
        PRIMARY KEY (id, file)
      );
      CREATE INDEX dry_runs_content ON mai_gate.dry_runs (sha256, baseline_id);
      CREATE INDEX dry_runs_worker ON mai_gate.dry_runs (worker, created_at);
    `,
  },
  {
    version: 3,
    name: "suite_runs",
    sql: `
      CREATE TABLE mai_gate.suite_runs (
        id          text PRIMARY KEY,
        worker      text NOT NULL,
        branch      text,
        profile     text NOT NULL,
        tree        text NOT NULL,
        head        text NOT NULL,
        suite_hash  text NOT NULL,
        dirty       boolean NOT NULL,
        state       text NOT NULL CHECK (state IN ('running', 'passed', 'failed', 'cancelled', 'interrupted')),
        steps       json NOT NULL,
        pid         integer NOT NULL,
        started_at  bigint NOT NULL,
        finished_at bigint
      );
      CREATE INDEX suite_runs_tree ON mai_gate.suite_runs (tree, suite_hash, profile, state);
      CREATE INDEX suite_runs_profile ON mai_gate.suite_runs (profile, started_at);
    `,
  },
  {
    version: 4,
    name: "completions",
    sql: `
      CREATE TABLE mai_gate.completions (
        id         text PRIMARY KEY,
        worker     text NOT NULL,
        branch     text NOT NULL,
        head       text NOT NULL,
        tree       text NOT NULL,
        summary    text NOT NULL,
        evidence   json NOT NULL,
        reported   boolean NOT NULL,
        reporter   json,
        created_at bigint NOT NULL
      );
      CREATE INDEX completions_worker ON mai_gate.completions (worker, head);
    `,
  },
  {
    version: 5,
    name: "suite_runs_host",
    sql: "ALTER TABLE mai_gate.suite_runs ADD COLUMN host text;",
  },
  {
    version: 6,
    name: "suite_runs_checkout",
    sql: "ALTER TABLE mai_gate.suite_runs ADD COLUMN checkout json;",
  },
];
