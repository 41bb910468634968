import pg from "pg";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { startCluster, type TestCluster } from "./cluster.js";
import { type Connected, connect } from "./mcp.js";
import { SCRATCH_ADMIN, SCRATCH_RUNNER } from "./pg.js";

export const SITE_DIR = "db/migrations";

/** Main's migrations, all applied in "production". */
export const SITE_MIGRATIONS: Record<string, string> = {
  [`${SITE_DIR}/001_create_orgs.sql`]: "CREATE TABLE orgs (id bigint PRIMARY KEY, name text NOT NULL);\n",
  [`${SITE_DIR}/002_create_users.sql`]:
    "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, org_id bigint, age text);\n",
  [`${SITE_DIR}/003_create_events.sql`]: "CREATE TABLE events (id bigint PRIMARY KEY, kind text);\n",
};

/** The calls the workload makes of each statement: pg_stat_statements records them normalised. */
export const WORKLOAD_CALLS = { email: 312, byOrg: 40, insertEvent: 25 };

/**
 * "Production": a cluster of the test's own with pg_stat_statements preloaded, the app's database
 * with 50,000 users (1,000 NULL names at ids 50, 100, 150 …; 20 rows in 10 duplicate emails; 50
 * orphaned org_ids at ids 7, 1007, 2007 …; 5 ages that are not numbers), a parameterised workload
 * run by the app's own role through `pg`, and two read-only roles: `ro` with pg_read_all_stats,
 * `ro_plain` without it.
 */
export async function startSiteProduction(): Promise<{
  cluster: TestCluster;
  dsn: (role: "ro" | "ro_plain" | "postgres") => string;
  stop(): Promise<void>;
}> {
  const cluster = await startCluster(["shared_preload_libraries=pg_stat_statements"]);
  const dsn = (role: string) => `postgres://${role}@127.0.0.1:${cluster.port}/app`;
  try {
    const admin = new pg.Client({ connectionString: cluster.adminDsn });
    await admin.connect();
    await admin.query("CREATE ROLE app LOGIN; CREATE ROLE ro LOGIN; CREATE ROLE ro_plain LOGIN");
    await admin.query("GRANT pg_read_all_stats TO ro");
    await admin.query("CREATE DATABASE app OWNER app");
    await admin.end();
    const db = new pg.Client({ connectionString: dsn("postgres") });
    await db.connect();
    await db.query("CREATE EXTENSION pg_stat_statements");
    await db.query("SET ROLE app");
    await db.query(Object.values(SITE_MIGRATIONS).join("\n"));
    await db.query(`
      CREATE SCHEMA paliad;
      CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL);
      INSERT INTO paliad.applied_migrations VALUES (1, 'create_orgs'), (2, 'create_users'), (3, 'create_events');
      INSERT INTO orgs SELECT g, 'org ' || g FROM generate_series(1, 100) g;
      INSERT INTO users SELECT g,
          'u' || CASE WHEN g > 49990 THEN g - 49990 ELSE g END || '@example.com',
          CASE WHEN g % 50 = 0 THEN NULL ELSE 'name ' || g END,
          CASE WHEN g % 1000 = 7 THEN 999 ELSE 1 + g % 100 END,
          CASE WHEN g % 10000 = 3 THEN 'unknown' ELSE (20 + g % 60)::text END
        FROM generate_series(1, 50000) g;
      INSERT INTO events SELECT g, 'kind ' || g FROM generate_series(1, 100) g;
      GRANT USAGE ON SCHEMA paliad TO ro, ro_plain;
      GRANT SELECT ON ALL TABLES IN SCHEMA public, paliad TO ro, ro_plain;
      RESET ROLE;
      ANALYZE;
      SELECT pg_stat_statements_reset();
    `);
    await db.end();
    await workload(dsn("app"));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, dsn, stop: () => cluster.stop() };
}

/** The live app's traffic: parameterised statements through the driver, as a Go binary sends them. */
async function workload(dsn: string): Promise<void> {
  const app = new pg.Client({ connectionString: dsn });
  await app.connect();
  for (let i = 1; i <= WORKLOAD_CALLS.email; i++)
    await app.query("SELECT email FROM users WHERE id = $1", [i]);
  for (let i = 1; i <= WORKLOAD_CALLS.byOrg; i++)
    await app.query("SELECT id, name FROM users WHERE org_id = $1 ORDER BY id LIMIT 20", [i]);
  for (let i = 1; i <= WORKLOAD_CALLS.insertEvent; i++)
    await app.query("INSERT INTO events (id, kind) VALUES ($1, $2)", [1000 + i, "visit"]);
  await app.end();
}

/** A repository whose main has `SITE_MIGRATIONS`, production read through `prodRole`. */
export async function createSiteApp(
  prod: Awaited<ReturnType<typeof startSiteProduction>>,
  options: {
    config?: Record<string, unknown>;
    files?: Record<string, string>;
    prodRole?: "ro" | "ro_plain";
  } = {},
) {
  const { prod: prodExtra, ...rest } = options.config ?? {};
  const sandbox: GitSandbox = await createGitSandbox({
    config: {
      migrations: { dir: SITE_DIR, history_table: "paliad.applied_migrations" },
      prod: { dsn: "env:PROD_RO_DSN", ...(prodExtra as Record<string, unknown> | undefined) },
      // The dump creates pg_stat_statements: extensions are the admin connection's to create.
      scratch: { dsn: "env:SCRATCH_DSN", admin_dsn: "env:SCRATCH_ADMIN_DSN" },
      git: { fetch_interval_seconds: 0 },
      ...rest,
    },
    files: { ...SITE_MIGRATIONS, ...(options.files ?? {}) },
  });
  const env = {
    PROD_RO_DSN: prod.dsn(options.prodRole ?? "ro"),
    SCRATCH_DSN: SCRATCH_RUNNER,
    SCRATCH_ADMIN_DSN: SCRATCH_ADMIN,
  };
  const sessions: Connected[] = [];
  return {
    sandbox,
    async session(branch: string, extraEnv: Record<string, string> = {}) {
      const c = await connect({ cwd: await sandbox.worktree(branch), env: { ...env, ...extraEnv } });
      sessions.push(c);
      return c;
    },
    async cleanup() {
      await Promise.all(sessions.map((s) => s.close()));
      await sandbox.cleanup();
    },
  };
}
