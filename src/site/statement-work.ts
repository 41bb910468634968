/**
 * What a statement does to existing rows, read from its parse tree: which tables it scans to
 * validate, which it builds an index over, and the lock it takes for that.
 */
import type { AlterTableCmd, Constraint, Node, RangeVar } from "libpg-query";
import { type AstBody, astKind } from "../dryrun/sql.js";

/** pg_locks' mode names, weakest first. */
export const LOCK_MODES = [
  "AccessShareLock",
  "RowShareLock",
  "RowExclusiveLock",
  "ShareUpdateExclusiveLock",
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
] as const;

export type LockMode = (typeof LOCK_MODES)[number];

export function strongest(modes: Iterable<string>): LockMode | null {
  let best = -1;
  for (const m of modes) best = Math.max(best, LOCK_MODES.indexOf(m as LockMode));
  return best < 0 ? null : LOCK_MODES[best]!;
}

export interface TableName {
  schema: string | null;
  name: string;
}

export type WorkKind = "rewrite" | "validation" | "index build" | "backfill";

/** Work over a table's rows that a statement does while holding `lock` on it. */
export interface StatementWork {
  table: TableName;
  work: WorkKind;
  /** What does it, e.g. `SET NOT NULL`, `ADD FOREIGN KEY`, `CREATE INDEX`. */
  what: string;
  lock: LockMode;
}

export const tableOf = (r: RangeVar | undefined): TableName | null =>
  r?.relname ? { schema: r.schemaname ?? null, name: r.relname } : null;

function constraintWork(c: Constraint): Omit<StatementWork, "table"> | null {
  const validated = c.skip_validation !== true;
  switch (c.contype) {
    case "CONSTR_CHECK":
      return validated ? { work: "validation", what: "ADD CHECK", lock: "AccessExclusiveLock" } : null;
    case "CONSTR_FOREIGN":
      return validated
        ? { work: "validation", what: "ADD FOREIGN KEY", lock: "ShareRowExclusiveLock" }
        : null;
    case "CONSTR_UNIQUE":
    case "CONSTR_PRIMARY":
    case "CONSTR_EXCLUSION":
      return c.indexname
        ? null
        : {
            work: "index build",
            what: c.contype === "CONSTR_PRIMARY" ? "ADD PRIMARY KEY" : "ADD UNIQUE",
            lock: "AccessExclusiveLock",
          };
    default:
      return null;
  }
}

function alterWork(cmd: AlterTableCmd): Omit<StatementWork, "table"> | null {
  if (cmd.subtype === "AT_SetNotNull")
    return { work: "validation", what: "SET NOT NULL", lock: "AccessExclusiveLock" };
  if (cmd.subtype === "AT_AddConstraint" && cmd.def && "Constraint" in cmd.def)
    return constraintWork(cmd.def.Constraint);
  return null;
}

const DML = new Set(["UpdateStmt", "DeleteStmt"]);

/** The work a statement does over existing rows (rewrites are seen on the clone, not here). */
export function statementWork(ast: Record<string, unknown>): StatementWork[] {
  const kind = astKind(ast);
  if (kind === "AlterTableStmt") {
    const s = ast[kind] as AstBody<"AlterTableStmt">;
    const table = tableOf(s.relation);
    if (!table || s.objtype !== "OBJECT_TABLE") return [];
    return (s.cmds ?? []).flatMap((n: Node) => {
      const w = "AlterTableCmd" in n ? alterWork(n.AlterTableCmd) : null;
      return w ? [{ table, ...w }] : [];
    });
  }
  if (kind === "IndexStmt") {
    const s = ast[kind] as AstBody<"IndexStmt">;
    const table = tableOf(s.relation);
    if (!table || s.concurrent) return [];
    return [
      {
        table,
        work: "index build",
        what: s.unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX",
        lock: "ShareLock",
      },
    ];
  }
  if (DML.has(kind)) {
    const s = ast[kind] as { relation?: RangeVar };
    const table = tableOf(s.relation);
    const what = kind === "UpdateStmt" ? "UPDATE" : "DELETE";
    return table ? [{ table, work: "backfill", what, lock: "RowExclusiveLock" }] : [];
  }
  return [];
}

/** Lock modes that stop the site's reads or writes while held (SHARE UPDATE EXCLUSIVE and weaker do not). */
export const BLOCKING: ReadonlySet<string> = new Set<LockMode>([
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
]);
