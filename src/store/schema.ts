/**
 * The state database's own migrations, applied in order at open. Append only: a released schema
 * step is never edited, a change is a new step.
 *
 * Each step is written once, as a description of tables, indexes and columns, and rendered for
 * each store: SQLite (plain tables, JSON and booleans as TEXT and INTEGER) and PostgreSQL (tables in
 * a schema of their own, `mai_gate`; times in ms and versions as `bigint`; JSON as `json`, which
 * keeps the text as written, key order included, like SQLite's TEXT).
 */
export interface SchemaStep {
  version: number;
  name: string;
  sql: string;
}

/** The kinds of value a column holds, each with its spelling per dialect. */
type Kind = "text" | "int" | "bigint" | "bool" | "json" | "serial";

const SPELLING: Record<Dialect, Record<Kind, string>> = {
  sqlite: {
    text: "TEXT",
    int: "INTEGER",
    bigint: "INTEGER",
    bool: "INTEGER",
    json: "TEXT",
    serial: "INTEGER PRIMARY KEY AUTOINCREMENT",
  },
  postgres: {
    text: "text",
    int: "integer",
    bigint: "bigint",
    bool: "boolean",
    json: "json",
    serial: "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
  },
};

type Dialect = "sqlite" | "postgres";

interface Column {
  name: string;
  kind: Kind;
  notNull?: boolean;
  primaryKey?: boolean;
  default?: number;
  oneOf?: readonly string[];
}

type Change =
  | { table: string; columns: Column[]; primaryKey?: string[] }
  | { index: string; on: string; columns: string[]; unique?: boolean; where?: string }
  | { addColumn: Column; to: string };

interface Step {
  version: number;
  name: string;
  changes: Change[];
}

const req = (name: string, kind: Kind, more: Partial<Column> = {}): Column => ({
  name,
  kind,
  notNull: true,
  ...more,
});
const opt = (name: string, kind: Kind, more: Partial<Column> = {}): Column => ({ name, kind, ...more });

const STEPS: Step[] = [
  {
    version: 1,
    name: "leases_events_meta",
    changes: [
      {
        table: "leases",
        columns: [
          opt("id", "text", { primaryKey: true }),
          req("version", "bigint"),
          req("name", "text"),
          req("request_name", "text"),
          req("seq", "int", { default: 1 }),
          req("files", "json"),
          req("worker", "text"),
          opt("branch", "text"),
          req("created_at", "bigint"),
          req("expires_at", "bigint"),
          opt("ended_at", "bigint"),
          opt("end_reason", "text", { oneOf: ["released", "expired", "moved", "revoked"] }),
          opt("ended_by", "text"),
          opt("end_note", "text"),
          req("prod_checked", "bool"),
          opt("moved_to", "text"),
        ],
      },
      {
        index: "leases_open_version",
        on: "leases",
        columns: ["version"],
        unique: true,
        where: "ended_at IS NULL",
      },
      {
        index: "leases_open_worker",
        on: "leases",
        columns: ["worker", "request_name"],
        where: "ended_at IS NULL",
      },
      { index: "leases_created", on: "leases", columns: ["created_at"] },
      {
        table: "events",
        columns: [
          opt("id", "serial"),
          req("at", "bigint"),
          req("actor", "text"),
          req("role", "text"),
          req("action", "text"),
          req("subject", "text"),
          opt("detail", "json"),
        ],
      },
      { index: "events_subject", on: "events", columns: ["subject"] },
      { table: "meta", columns: [opt("key", "text", { primaryKey: true }), req("value", "text")] },
    ],
  },
  {
    version: 2,
    name: "dry_runs",
    changes: [
      {
        table: "dry_runs",
        columns: [
          req("id", "text"),
          req("file", "text"),
          req("worker", "text"),
          opt("branch", "text"),
          opt("version", "bigint"),
          opt("name", "text"),
          req("sha256", "text"),
          req("baseline_id", "text"),
          opt("template_key", "text"),
          req("engine", "text"),
          req("outcome", "text", { oneOf: ["passed", "failed", "not_run"] }),
          req("report", "json"),
          req("created_at", "bigint"),
        ],
        primaryKey: ["id", "file"],
      },
      { index: "dry_runs_content", on: "dry_runs", columns: ["sha256", "baseline_id"] },
      { index: "dry_runs_worker", on: "dry_runs", columns: ["worker", "created_at"] },
    ],
  },
  {
    version: 3,
    name: "suite_runs",
    changes: [
      {
        table: "suite_runs",
        columns: [
          opt("id", "text", { primaryKey: true }),
          req("worker", "text"),
          opt("branch", "text"),
          req("profile", "text"),
          req("tree", "text"),
          req("head", "text"),
          req("suite_hash", "text"),
          req("dirty", "bool"),
          req("state", "text", { oneOf: ["running", "passed", "failed", "cancelled", "interrupted"] }),
          req("steps", "json"),
          req("pid", "int"),
          req("started_at", "bigint"),
          opt("finished_at", "bigint"),
        ],
      },
      { index: "suite_runs_tree", on: "suite_runs", columns: ["tree", "suite_hash", "profile", "state"] },
      { index: "suite_runs_profile", on: "suite_runs", columns: ["profile", "started_at"] },
    ],
  },
  {
    version: 4,
    name: "completions",
    changes: [
      {
        table: "completions",
        columns: [
          opt("id", "text", { primaryKey: true }),
          req("worker", "text"),
          req("branch", "text"),
          req("head", "text"),
          req("tree", "text"),
          req("summary", "text"),
          req("evidence", "json"),
          req("reported", "bool"),
          opt("reporter", "json"),
          req("created_at", "bigint"),
        ],
      },
      { index: "completions_worker", on: "completions", columns: ["worker", "head"] },
    ],
  },
  { version: 5, name: "suite_runs_host", changes: [{ addColumn: opt("host", "text"), to: "suite_runs" }] },
  {
    version: 6,
    name: "suite_runs_checkout",
    changes: [{ addColumn: opt("checkout", "json"), to: "suite_runs" }],
  },
  { version: 7, name: "suite_runs_live", changes: [{ addColumn: opt("live", "json"), to: "suite_runs" }] },
];

function column(c: Column, dialect: Dialect): string {
  const parts = [c.name, SPELLING[dialect][c.kind]];
  if (c.primaryKey) parts.push("PRIMARY KEY");
  if (c.notNull) parts.push("NOT NULL");
  if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
  if (c.oneOf) parts.push(`CHECK (${c.name} IN (${c.oneOf.map((v) => `'${v}'`).join(", ")}))`);
  return parts.join(" ");
}

function render(change: Change, dialect: Dialect): string {
  const table = (name: string) => (dialect === "postgres" ? `mai_gate.${name}` : name);
  if ("table" in change) {
    const lines = change.columns.map((c) => column(c, dialect));
    if (change.primaryKey) lines.push(`PRIMARY KEY (${change.primaryKey.join(", ")})`);
    return `CREATE TABLE ${table(change.table)} (\n  ${lines.join(",\n  ")}\n);`;
  }
  if ("index" in change) {
    const unique = change.unique ? "UNIQUE " : "";
    const where = change.where ? ` WHERE ${change.where}` : "";
    return `CREATE ${unique}INDEX ${change.index} ON ${table(change.on)} (${change.columns.join(", ")})${where};`;
  }
  return `ALTER TABLE ${table(change.to)} ADD COLUMN ${column(change.addColumn, dialect)};`;
}

function stepsFor(dialect: Dialect): SchemaStep[] {
  return STEPS.map((s) => ({
    version: s.version,
    name: s.name,
    sql: s.changes.map((c) => render(c, dialect)).join("\n"),
  }));
}

export const SQLITE_SCHEMA: SchemaStep[] = stepsFor("sqlite");
export const POSTGRES_SCHEMA: SchemaStep[] = stepsFor("postgres");

/** The newest schema version this code knows. */
export const LATEST_SCHEMA = STEPS.at(-1)?.version ?? 0;
