import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect } from "./mcp.js";
import { createProdDatabase, SCRATCH_RUNNER } from "./pg.js";

export const MIG_DIR = "internal/db/migrations";

/** `count` numbered migrations creating one table each, with `overrides` replacing some of them. */
export function mainMigrations(
  count: number,
  overrides: Record<number, [string, string]> = {},
): Record<string, string> {
  const files: Record<string, string> = {};
  for (let v = 1; v <= count; v++) {
    const [name, sql] = overrides[v] ?? [
      `create_t${v}`,
      `CREATE TABLE t${v} (id bigint PRIMARY KEY, note text);\n`,
    ];
    files[`${MIG_DIR}/${String(v).padStart(3, "0")}_${name}.sql`] = sql;
  }
  return files;
}

/**
 * An app repository whose production database (on the real PostgreSQL server) has applied main's
 * migrations, recorded in paliad.applied_migrations, plus any hand-made SQL.
 */
export async function createApp(options: {
  migrations: Record<string, string>;
  appliedUpTo?: number;
  prodExtraSql?: string;
  config?: Record<string, unknown>;
  scratch?: "server" | "embedded";
}) {
  const entries = Object.entries(options.migrations).sort(([a], [b]) => a.localeCompare(b));
  const applied = entries.filter(
    ([file]) => versionOf(file) <= (options.appliedUpTo ?? Number.MAX_SAFE_INTEGER),
  );
  const history = applied.map(([file]) => `(${versionOf(file)}, '${nameOf(file)}')`).join(", ");
  const prod = await createProdDatabase(`
    CREATE SCHEMA paliad;
    CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL);
    ${applied.map(([, sql]) => sql).join("\n")}
    ${history ? `INSERT INTO paliad.applied_migrations VALUES ${history};` : ""}
    ${options.prodExtraSql ?? ""}
  `);
  const scratch = options.scratch === "embedded" ? {} : { dsn: "env:SCRATCH_DSN" };
  const sandbox: GitSandbox = await createGitSandbox({
    config: {
      migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations" },
      prod: { dsn: "env:PROD_RO_DSN" },
      scratch,
      git: { fetch_interval_seconds: 0 },
      ...(options.config ?? {}),
    },
    files: options.migrations,
  });
  const sessions: Connected[] = [];
  const env = { PROD_RO_DSN: prod.dsnReadOnly, SCRATCH_DSN: SCRATCH_RUNNER };
  return {
    sandbox,
    prod,
    env,
    async session(branch: string, extraEnv: Record<string, string> = {}) {
      const c = await connect({ cwd: await sandbox.worktree(branch), env: { ...env, ...extraEnv } });
      sessions.push(c);
      return c;
    },
    async cleanup() {
      await Promise.all(sessions.map((s) => s.close()));
      await sandbox.cleanup();
      await prod.drop();
    },
  };
}

export type App = Awaited<ReturnType<typeof createApp>>;

function versionOf(file: string): number {
  return Number(/\/(\d+)_/.exec(file)?.[1]);
}

function nameOf(file: string): string {
  return /\/\d+_(.+)\.sql$/.exec(file)?.[1] ?? "";
}
