/**
 * Explains a dry-run failure by the migration on main that caused it: an index of the schema changes
 * of main's migrations, and a matcher from Postgres's error message to the latest matching change.
 */
import type { ColumnDef, Node, ObjectType, RangeVar } from "libpg-query";
import { InputError } from "../errors.js";
import type { AstBody, AstKind } from "./sql.js";
import { analyzeSql, astKind } from "./sql.js";

export type SchemaChangeKind =
  | "drop_column"
  | "rename_column"
  | "drop_table"
  | "rename_table"
  | "drop_view"
  | "drop_type"
  | "drop_function"
  | "drop_constraint"
  | "rename_constraint"
  | "drop_index"
  | "create_table"
  | "add_column"
  | "create_index"
  | "create_view"
  | "create_type"
  | "create_function"
  | "add_constraint"
  | "create_sequence";

export interface SchemaChange {
  file: string;
  version: number;
  kind: SchemaChangeKind;
  /** The table, unqualified, for column and constraint changes (and the indexed table); else null. */
  relation: string | null;
  /** The column, table, type, function, constraint or index name, unqualified. */
  object: string;
  /** The new name of a rename. */
  newName: string | null;
  /** 1-based line where the statement starts. */
  line: number;
}

export interface FailureFacts {
  sqlstate: string;
  message: string;
}

type Change = Pick<SchemaChange, "kind" | "relation" | "object" | "newName">;

const change = (
  kind: SchemaChangeKind,
  relation: string | null | undefined,
  object: string,
  newName?: string,
) => ({
  kind,
  relation: relation ?? null,
  object,
  newName: newName ?? null,
});

/** The last element of a qualified name: `[s, t]` → `t`. */
function lastName(names: Node[] | undefined): string | null {
  const last = names?.[names.length - 1];
  return last && "String" in last ? (last.String.sval ?? null) : null;
}

/** The unqualified name of one object of a DROP. */
function dropObjectName(node: Node): string | null {
  if ("List" in node) return lastName(node.List.items);
  if ("TypeName" in node) return lastName(node.TypeName.names);
  if ("ObjectWithArgs" in node) return lastName(node.ObjectWithArgs.objname);
  if ("String" in node) return node.String.sval ?? null;
  return null;
}

function constraintChanges(table: string | undefined, nodes: Node[] | undefined): Change[] {
  return (nodes ?? []).flatMap((n) =>
    "Constraint" in n && n.Constraint.conname ? [change("add_constraint", table, n.Constraint.conname)] : [],
  );
}

function columnChanges(table: string | undefined, def: ColumnDef): Change[] {
  if (!def.colname) return [];
  return [change("add_column", table, def.colname), ...constraintChanges(table, def.constraints)];
}

function createTableChanges(relation: RangeVar | undefined, elements: Node[] | undefined): Change[] {
  const table = relation?.relname;
  if (!table) return [];
  const inner = (elements ?? []).flatMap((n): Change[] => {
    if ("ColumnDef" in n) return columnChanges(table, n.ColumnDef);
    if ("Constraint" in n) return constraintChanges(table, [n]);
    return [];
  });
  return [change("create_table", null, table), ...inner];
}

function alterTableChanges(s: AstBody<"AlterTableStmt">): Change[] {
  const table = s.relation?.relname;
  return (s.cmds ?? []).flatMap((node): Change[] => {
    if (!("AlterTableCmd" in node)) return [];
    const { subtype, name, def } = node.AlterTableCmd;
    if (subtype === "AT_DropColumn" && name) return [change("drop_column", table, name)];
    if (subtype === "AT_DropConstraint" && name) return [change("drop_constraint", table, name)];
    if (subtype === "AT_AddColumn" && def && "ColumnDef" in def) return columnChanges(table, def.ColumnDef);
    if (subtype === "AT_AddConstraint" && def && "Constraint" in def) return constraintChanges(table, [def]);
    return [];
  });
}

const DROP_KINDS: Partial<Record<ObjectType, SchemaChangeKind>> = {
  OBJECT_TABLE: "drop_table",
  OBJECT_FOREIGN_TABLE: "drop_table",
  OBJECT_VIEW: "drop_view",
  OBJECT_MATVIEW: "drop_view",
  OBJECT_TYPE: "drop_type",
  OBJECT_DOMAIN: "drop_type",
  OBJECT_FUNCTION: "drop_function",
  OBJECT_PROCEDURE: "drop_function",
  OBJECT_ROUTINE: "drop_function",
  OBJECT_INDEX: "drop_index",
};

/** Renames of a relation (table, view, …) all make `relation "x" does not exist`. */
const RELATION_RENAMES = new Set<ObjectType>([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_FOREIGN_TABLE",
]);

function renameChanges(s: AstBody<"RenameStmt">): Change[] {
  const table = s.relation?.relname;
  if (!s.newname || !table || !s.renameType) return [];
  if (s.renameType === "OBJECT_COLUMN" && s.subname)
    return [change("rename_column", table, s.subname, s.newname)];
  if (s.renameType === "OBJECT_TABCONSTRAINT" && s.subname) {
    return [change("rename_constraint", table, s.subname, s.newname)];
  }
  return RELATION_RENAMES.has(s.renameType) ? [change("rename_table", null, table, s.newname)] : [];
}

const named = (kind: SchemaChangeKind, name: string | null | undefined, relation?: string) =>
  name ? [change(kind, relation, name)] : [];

/** The schema changes each statement kind makes; kinds not listed make none worth explaining. */
const EXTRACTORS: { [K in AstKind]?: (body: AstBody<K>) => Change[] } = {
  AlterTableStmt: alterTableChanges,
  RenameStmt: renameChanges,
  DropStmt: (s) => {
    const kind = s.removeType && DROP_KINDS[s.removeType];
    return kind ? (s.objects ?? []).flatMap((o) => named(kind, dropObjectName(o))) : [];
  },
  CreateStmt: (s) => createTableChanges(s.relation, s.tableElts),
  CreateTableAsStmt: (s) =>
    named(s.objtype === "OBJECT_MATVIEW" ? "create_view" : "create_table", s.into?.rel?.relname),
  IndexStmt: (s) => named("create_index", s.idxname, s.relation?.relname),
  ViewStmt: (s) => named("create_view", s.view?.relname),
  CreateEnumStmt: (s) => named("create_type", lastName(s.typeName)),
  CompositeTypeStmt: (s) => named("create_type", s.typevar?.relname),
  CreateRangeStmt: (s) => named("create_type", lastName(s.typeName)),
  CreateDomainStmt: (s) => named("create_type", lastName(s.domainname)),
  CreateFunctionStmt: (s) => named("create_function", lastName(s.funcname)),
  CreateSeqStmt: (s) => named("create_sequence", s.sequence?.relname),
};

/** The schema changes of main's migrations, in the given (version) order; unparseable files are skipped. */
export async function indexSchemaChanges(
  files: { file: string; version: number; sql: string }[],
): Promise<SchemaChange[]> {
  const changes: SchemaChange[] = [];
  for (const { file, version, sql } of files) {
    let statements: Awaited<ReturnType<typeof analyzeSql>>["statements"];
    try {
      statements = (await analyzeSql(sql)).statements;
    } catch (err) {
      if (err instanceof InputError) continue;
      throw err;
    }
    for (const statement of statements) {
      const kind = astKind(statement.ast);
      const extract = EXTRACTORS[kind] as ((body: unknown) => Change[]) | undefined;
      for (const c of extract?.(statement.ast[kind]) ?? [])
        changes.push({ file, version, ...c, line: statement.line });
    }
  }
  return changes;
}

/** One kind of Postgres error message: what it names and which changes can cause it. */
interface Lookup {
  sqlstate: string;
  noun: string;
  kinds: SchemaChangeKind[];
  /** Named groups `object` and, when the message names it, `relation`. */
  pattern: RegExp;
  /** The relation may be an alias (`column r.x`): prefer, but do not require, a change on it. */
  looseRelation: boolean;
}

const PLACEHOLDERS: Record<string, string> = {
  "{object}": '"(?<object>[^"]+)"',
  "{relation}": '"(?<relation>[^"]+)"',
  "{ref}": "(?<relation>\\S+)\\.(?<object>[^.\\s]+)",
  "{function}": "(?<object>[^(]+?)(?:\\(.*\\))?",
};

const GONE_COLUMN: SchemaChangeKind[] = ["drop_column", "rename_column"];
const GONE_RELATION: SchemaChangeKind[] = ["drop_table", "drop_view", "rename_table"];
const GONE_CONSTRAINT: SchemaChangeKind[] = ["drop_constraint", "rename_constraint"];
const NEW_RELATION: SchemaChangeKind[] = ["create_table", "create_index", "create_view", "create_sequence"];

/** Message templates (regex with placeholders), first match wins; from PostgreSQL's English messages. */
const LOOKUPS: Lookup[] = (
  [
    ["42703", "column", GONE_COLUMN, "column {object} of relation {relation} does not exist"],
    ["42703", "column", GONE_COLUMN, "column {object} does not exist"],
    ["42703", "column", GONE_COLUMN, "column {ref} does not exist"],
    ["42703", "column", GONE_COLUMN, 'record "[^"]+" has no field {object}'],
    ["42P01", "relation", GONE_RELATION, "(?:relation|table|view|materialized view) {object} does not exist"],
    ["42704", "type", ["drop_type"], "type {object} does not exist"],
    [
      "42704",
      "constraint",
      GONE_CONSTRAINT,
      "constraint {object} (?:of|for) (?:relation|table) {relation} does not exist",
    ],
    ["42704", "index", ["drop_index"], "index {object} does not exist"],
    ["42883", "function", ["drop_function"], "(?:function|procedure) {function} does not exist"],
    ["42P07", "relation", NEW_RELATION, "relation {object} already exists"],
    ["42701", "column", ["add_column"], "column {object} of relation {relation} already exists"],
    [
      "42710",
      "constraint",
      ["add_constraint"],
      "constraint {object} for (?:relation|table) {relation} already exists",
    ],
    ["42710", "type", ["create_type"], "type {object} already exists"],
    ["42723", "function", ["create_function"], "(?:function|procedure) {function} already exists"],
  ] as const
).map(([sqlstate, noun, kinds, template]) => ({
  sqlstate,
  noun,
  kinds: [...kinds],
  pattern: new RegExp(`^${template.replace(/\{\w+\}/g, (p) => PLACEHOLDERS[p] ?? p)}`),
  looseRelation: template.includes("{ref}"),
}));

/** `"s"."f"` or `s.x` → `f` / `x`: changes are matched on unqualified names. */
function unqualified(name: string): string {
  const parts = name.split(".");
  return (parts[parts.length - 1] ?? name).replace(/^"|"$/g, "");
}

function isLater(a: SchemaChange, b: SchemaChange): boolean {
  return a.version > b.version || (a.version === b.version && a.line >= b.line);
}

function latestMatch(lookup: Lookup, object: string, relation: string | null, changes: SchemaChange[]) {
  const candidates = changes.filter((c) => lookup.kinds.includes(c.kind) && c.object === object);
  const sameRelation = relation === null ? candidates : candidates.filter((c) => c.relation === relation);
  const pool = lookup.looseRelation && sameRelation.length === 0 ? candidates : sameRelation;
  return pool.reduce<SchemaChange | null>((best, c) => (best === null || isLater(c, best) ? c : best), null);
}

function action(c: SchemaChange): string {
  if (c.kind.startsWith("drop_")) return "dropped it";
  if (c.kind.startsWith("rename_")) return `renamed it to \`${c.newName ?? "?"}\``;
  return "created it";
}

function sentence(lookup: Lookup, object: string, relation: string | null, c: SchemaChange): string {
  const subject = relation && !lookup.looseRelation ? `${object}\` of relation \`${relation}` : object;
  const what =
    c.kind.startsWith("drop_") || c.kind.startsWith("rename_") ? "does not exist" : "already exists";
  return `${lookup.noun} \`${subject}\` ${what} — migration \`${c.file}\` ${action(c)} (line ${c.line})`;
}

/** What a failure message names, and the latest change that explains it (null when none does). */
export interface ChangeMatch {
  /** `column`, `relation`, `type`, `constraint`, `index`, `function`. */
  noun: string;
  object: string;
  /** The relation the message names, or else the change's (columns and constraints). */
  relation: string | null;
  change: SchemaChange | null;
}

/** Every reading of the message the lookups allow, in order, each with its latest explaining change. */
function* readings(facts: FailureFacts, changes: SchemaChange[]) {
  const message = facts.message.replace(/^ERROR:\s*/, "").trim();
  for (const lookup of LOOKUPS) {
    if (lookup.sqlstate !== facts.sqlstate) continue;
    const groups = lookup.pattern.exec(message)?.groups;
    if (!groups?.object) continue;
    const object = unqualified(groups.object);
    const relation = groups.relation ? unqualified(groups.relation) : null;
    yield { lookup, object, relation, found: latestMatch(lookup, object, relation, changes) };
  }
}

/**
 * The object a failure names and the change (of `changes`) that removed or renamed it: the first
 * reading with a change, else the first reading; null when the message names no object.
 */
export function matchChange(facts: FailureFacts, changes: SchemaChange[]): ChangeMatch | null {
  let first: ChangeMatch | null = null;
  for (const r of readings(facts, changes)) {
    const relation = r.lookup.looseRelation
      ? (r.found?.relation ?? r.relation)
      : (r.relation ?? r.found?.relation ?? null);
    const m = { noun: r.lookup.noun, object: r.object, relation, change: r.found };
    if (r.found) return m;
    first ??= m;
  }
  return first;
}

/** One sentence naming the migration on main that explains the failure, or null when none does. */
export function explainFailure(facts: FailureFacts, changes: SchemaChange[]): string | null {
  for (const r of readings(facts, changes)) {
    if (r.found) return sentence(r.lookup, r.object, r.relation, r.found);
  }
  return null;
}
