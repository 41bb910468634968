import type { PreparedFile, Probe } from "../dryrun/apply.js";
import type { ScratchSession } from "../dryrun/engine.js";
import {
  type LockMode,
  type StatementWork,
  statementWork,
  strongest,
  type WorkKind,
} from "./statement-work.js";

/** One statement's heavy work on one table, as the clone showed it. */
export interface StatementImpact {
  path: string;
  line: number;
  /** `schema.table` on the clone. */
  table: string;
  /** The strongest lock the file holds on the table while the work runs (observed, or implied). */
  mode: LockMode;
  /** Whether `mode` was read from pg_locks (false: implied by the statement, outside a transaction). */
  observed: boolean;
  work: WorkKind;
  /** e.g. `ALTER COLUMN … TYPE`, `SET NOT NULL`, `CREATE INDEX`. */
  what: string;
}

interface Rel {
  schema: string;
  name: string;
  node: string;
  modes: string[];
}

/** Every user table of the clone with its file node and the locks this session holds on it. */
const WATCH_SQL = `WITH l AS (
    SELECT relation, string_agg(mode, ',') AS modes FROM pg_locks
     WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation' GROUP BY relation)
  SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, c.relfilenode::text AS node,
         coalesce(l.modes, '') AS modes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN l ON l.relation = c.oid
   WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;

async function snapshot(session: ScratchSession): Promise<Map<string, Rel>> {
  const { rows } = await session.query(WATCH_SQL);
  return new Map(
    rows.map((r) => [
      String(r.oid),
      {
        schema: String(r.schema),
        name: String(r.name),
        node: String(r.node),
        modes: String(r.modes ?? "")
          .split(",")
          .filter((m) => m !== ""),
      },
    ]),
  );
}

const ALTER_WHAT: Record<string, string> = {
  AT_AlterColumnType: "ALTER COLUMN … TYPE",
  AT_AddColumn: "ADD COLUMN with a volatile default",
  AT_SetAccessMethod: "SET ACCESS METHOD",
  AT_SetTableSpace: "SET TABLESPACE",
  AT_SetLogged: "SET LOGGED",
  AT_SetUnLogged: "SET UNLOGGED",
  AT_DropColumn: "DROP COLUMN",
};

/** The `what` of a rewrite, from the statement's parse tree. */
function rewriteWhat(ast: Record<string, unknown>): string {
  const kind = Object.keys(ast)[0] ?? "";
  if (kind === "AlterTableStmt") {
    const cmds = (ast[kind] as { cmds?: { AlterTableCmd?: { subtype?: string } }[] }).cmds ?? [];
    const named = cmds.map((c) => ALTER_WHAT[c.AlterTableCmd?.subtype ?? ""]).filter((w): w is string => !!w);
    return named[0] ?? "ALTER TABLE";
  }
  if (kind === "ClusterStmt") return "CLUSTER";
  if (kind === "VacuumStmt") return "VACUUM FULL";
  return kind.replace(/Stmt$/, "").toUpperCase();
}

/** The table in `rels` a parsed name refers to (unqualified: `public` first). */
function find(rels: Map<string, Rel>, w: StatementWork): Rel | undefined {
  const all = [...rels.values()].filter((r) => r.name === w.table.name);
  if (w.table.schema) return all.find((r) => r.schema === w.table.schema);
  return all.find((r) => r.schema === "public") ?? all[0];
}

/**
 * Watches every statement of the branch's files: which table's file node changed (a rewrite),
 * which the statement scans to validate or indexes (from its parse tree), and the strongest lock the
 * file holds on that table then (from pg_locks inside a transaction; implied outside one). Locks a
 * file inherited from earlier files count only when `cumulative` (one transaction around all files).
 */
export function lockWatch(cumulative: boolean): { probe: Probe; impacts: () => StatementImpact[] } {
  const impacts: StatementImpact[] = [];
  let last = new Map<string, Rel>();
  let fileStart = last;
  let currentFile: string | null = null;
  const probe: Probe = {
    async before(session) {
      last = await snapshot(session);
      fileStart = last;
    },
    async after(session, file: PreparedFile, statement, inTransaction) {
      if (file.path !== currentFile) {
        currentFile = file.path;
        if (!cumulative) fileStart = last;
      }
      const now = await snapshot(session);
      const held = (oid: string, rel: Rel) => {
        const before = new Set(fileStart.get(oid)?.modes ?? []);
        return rel.modes.filter((m) => cumulative || !before.has(m));
      };
      const add = (oid: string, rel: Rel, work: WorkKind, what: string, implied: LockMode) => {
        const seen = inTransaction ? held(oid, rel) : [];
        const mode = strongest([...seen, implied])!;
        const table = `${rel.schema}.${rel.name}`;
        impacts.push({
          path: file.path,
          line: statement.line,
          table,
          mode,
          observed: inTransaction,
          work,
          what,
        });
      };
      for (const [oid, rel] of now) {
        const was = last.get(oid);
        if (was && was.node !== rel.node)
          add(oid, rel, "rewrite", rewriteWhat(statement.ast), "AccessExclusiveLock");
      }
      const rewritten = new Set(
        impacts
          .filter((i) => i.line === statement.line && i.path === file.path && i.work === "rewrite")
          .map((i) => i.table),
      );
      for (const w of statementWork(statement.ast)) {
        const rel = find(now, w);
        const oid = [...now].find(([, r]) => r === rel)?.[0];
        if (!rel || !oid || rewritten.has(`${rel.schema}.${rel.name}`)) continue;
        add(oid, rel, w.work, w.what, w.lock);
      }
      last = now;
    },
  };
  return { probe, impacts: () => [...impacts] };
}
