import type { Extension } from "@electric-sql/pglite";
import { RehearsalLimitError } from "./engine.js";
import type { SqlStatement } from "./sql.js";

/**
 * The contrib extensions the installed PGlite ships, by their SQL name, each imported only when a
 * rehearsal needs it: PGlite loads an extension's files at construction (`extensions: { … }`), so
 * a template must be created with every extension its SQL will `CREATE EXTENSION`.
 */
const SHIPPED: Record<string, () => Promise<Extension>> = {
  amcheck: async () => (await import("@electric-sql/pglite/contrib/amcheck")).amcheck,
  bloom: async () => (await import("@electric-sql/pglite/contrib/bloom")).bloom,
  btree_gin: async () => (await import("@electric-sql/pglite/contrib/btree_gin")).btree_gin,
  btree_gist: async () => (await import("@electric-sql/pglite/contrib/btree_gist")).btree_gist,
  citext: async () => (await import("@electric-sql/pglite/contrib/citext")).citext,
  cube: async () => (await import("@electric-sql/pglite/contrib/cube")).cube,
  dict_int: async () => (await import("@electric-sql/pglite/contrib/dict_int")).dict_int,
  dict_xsyn: async () => (await import("@electric-sql/pglite/contrib/dict_xsyn")).dict_xsyn,
  earthdistance: async () => (await import("@electric-sql/pglite/contrib/earthdistance")).earthdistance,
  file_fdw: async () => (await import("@electric-sql/pglite/contrib/file_fdw")).file_fdw,
  fuzzystrmatch: async () => (await import("@electric-sql/pglite/contrib/fuzzystrmatch")).fuzzystrmatch,
  hstore: async () => (await import("@electric-sql/pglite/contrib/hstore")).hstore,
  intarray: async () => (await import("@electric-sql/pglite/contrib/intarray")).intarray,
  isn: async () => (await import("@electric-sql/pglite/contrib/isn")).isn,
  lo: async () => (await import("@electric-sql/pglite/contrib/lo")).lo,
  ltree: async () => (await import("@electric-sql/pglite/contrib/ltree")).ltree,
  moddatetime: async () => (await import("@electric-sql/pglite/contrib/moddatetime")).moddatetime,
  pageinspect: async () => (await import("@electric-sql/pglite/contrib/pageinspect")).pageinspect,
  pg_buffercache: async () => (await import("@electric-sql/pglite/contrib/pg_buffercache")).pg_buffercache,
  pg_freespacemap: async () => (await import("@electric-sql/pglite/contrib/pg_freespacemap")).pg_freespacemap,
  pg_stat_statements: async () =>
    (await import("@electric-sql/pglite/contrib/pg_stat_statements")).pg_stat_statements,
  pg_surgery: async () => (await import("@electric-sql/pglite/contrib/pg_surgery")).pg_surgery,
  pg_trgm: async () => (await import("@electric-sql/pglite/contrib/pg_trgm")).pg_trgm,
  pg_visibility: async () => (await import("@electric-sql/pglite/contrib/pg_visibility")).pg_visibility,
  pg_walinspect: async () => (await import("@electric-sql/pglite/contrib/pg_walinspect")).pg_walinspect,
  pgcrypto: async () => (await import("@electric-sql/pglite/contrib/pgcrypto")).pgcrypto,
  seg: async () => (await import("@electric-sql/pglite/contrib/seg")).seg,
  tablefunc: async () => (await import("@electric-sql/pglite/contrib/tablefunc")).tablefunc,
  tcn: async () => (await import("@electric-sql/pglite/contrib/tcn")).tcn,
  tsm_system_rows: async () => (await import("@electric-sql/pglite/contrib/tsm_system_rows")).tsm_system_rows,
  tsm_system_time: async () => (await import("@electric-sql/pglite/contrib/tsm_system_time")).tsm_system_time,
  unaccent: async () => (await import("@electric-sql/pglite/contrib/unaccent")).unaccent,
  "uuid-ossp": async () => (await import("@electric-sql/pglite/contrib/uuid_ossp")).uuid_ossp,
};

/** Extensions another one needs (`CREATE EXTENSION earthdistance CASCADE` creates cube too). */
const REQUIRES: Record<string, string[]> = { earthdistance: ["cube"] };

/** Part of every PostgreSQL: nothing to load. */
const BUILT_IN = new Set(["plpgsql"]);

export const shippedExtensions = (): string[] => Object.keys(SHIPPED).sort();

/** The extensions `CREATE EXTENSION` statements create, by name (the AST's `extname`). */
export function createdExtensions(statements: SqlStatement[]): string[] {
  const names: string[] = [];
  for (const s of statements) {
    const body = s.ast.CreateExtensionStmt as { extname?: string } | undefined;
    if (body?.extname) names.push(body.extname);
  }
  return names;
}

/**
 * The sorted set of extensions to load for `names` (with what they require), without built-ins.
 * One PGlite does not ship is a rehearsal limit: the embedded engine cannot rehearse this SQL.
 */
export function extensionSet(names: Iterable<string>): string[] {
  const out = new Set<string>();
  const add = (name: string) => {
    if (BUILT_IN.has(name) || out.has(name)) return;
    if (!SHIPPED[name]) {
      throw new RehearsalLimitError(
        `cannot rehearse here: extension ${name} is not available in the embedded engine (PGlite ships ${shippedExtensions().join(", ")})`,
        {
          hint: "Set scratch.dsn to a PostgreSQL server that has the extension (see mai-gate scratch setup); nothing was recorded for these files.",
        },
      );
    }
    out.add(name);
    for (const dep of REQUIRES[name] ?? []) add(dep);
  };
  for (const name of names) add(name);
  return [...out].sort();
}

/** The `extensions` option of a PGlite holding `names` (each a name `extensionSet` accepted). */
export async function pgliteExtensions(names: string[]): Promise<Record<string, Extension>> {
  const entries = await Promise.all(names.map(async (n) => [n, await SHIPPED[n]!()] as const));
  return Object.fromEntries(entries);
}
