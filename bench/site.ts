import { writeFile } from "node:fs/promises";
import pg from "pg";
import { dryRun } from "../src/dryrun/service.js";
import { createGitSandbox, type GitSandbox } from "../src/sandbox/git-sandbox.js";
import { startCluster } from "../src/sandbox/pg-cluster.js";
import { reserveSlot } from "../src/slots/reserve.js";
import { Workspace } from "../src/workspace.js";
import { percentile, printTable, timeEach } from "./stats.js";

const SCRATCH = process.env.MAI_GATE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DIR = "db/migrations";
const TABLES = 150;
const ROWS = 20_000;

/** 150 tables, each with a parent foreign key; table 42 holds `ROWS` rows, the others a few. */
function schema(): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 1; i <= TABLES; i++) {
    const fk = i > 1 ? `, parent_id bigint REFERENCES t${i - 1} (id)` : "";
    out.push([
      `${DIR}/${String(i).padStart(3, "0")}_create_t${i}.sql`,
      `CREATE TABLE t${i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now()${fk});\nCREATE INDEX t${i}_name ON t${i} (name);\n`,
    ]);
  }
  return out;
}

/** 500 distinct parameterised statements, run through the driver as the app would. */
async function workload(dsn: string): Promise<void> {
  const app = new pg.Client({ connectionString: dsn });
  await app.connect();
  for (let i = 1; i <= TABLES; i++) {
    await app.query(`SELECT id, name FROM t${i} WHERE id = $1`, [1]);
    await app.query(`SELECT count(*) FROM t${i} WHERE name = $1`, ["x"]);
    await app.query(`UPDATE t${i} SET name = $1 WHERE id = $2`, ["x", -1]);
    if (i > 1 && i <= 51)
      await app.query(
        `SELECT c.id, p.name FROM t${i} c JOIN t${i - 1} p ON p.id = c.parent_id WHERE c.id = $1`,
        [1],
      );
  }
  await app.end();
}

/**
 * Site safety's cost on a warm dry run: the same branch migration (a nullable column, SET NOT NULL and
 * a CHECK that production's 20,000 rows pass, an index) against the same production (150 tables, 500
 * statements in pg_stat_statements), with `dry_run.site_safety: false` (the dry run before site
 * safety), with the 500 queries prepared before and after plus lock impact, and with the data probes on
 * top. Production is a cluster of the bench's own (pg_stat_statements preloaded); scratch is the
 * machine's server.
 */
export async function benchSite(): Promise<void> {
  const prod = await startCluster(["shared_preload_libraries=pg_stat_statements"]);
  const prodDsn = `postgres://postgres@127.0.0.1:${prod.port}/app`;
  const sandboxes: GitSandbox[] = [];
  const rows: (string | number)[][] = [];
  try {
    const admin = new pg.Client({ connectionString: prod.adminDsn });
    await admin.connect();
    await admin.query("CREATE DATABASE app");
    await admin.query("CREATE ROLE app LOGIN");
    await admin.end();
    const db = new pg.Client({ connectionString: prodDsn });
    await db.connect();
    const files = schema();
    await db.query("CREATE EXTENSION pg_stat_statements");
    await db.query(files.map(([, sql]) => sql).join("\n"));
    await db.query(`CREATE SCHEMA paliad; CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text);
      INSERT INTO paliad.applied_migrations SELECT g, 'create_t' || g FROM generate_series(1, ${TABLES}) g;
      INSERT INTO t41 SELECT g, 'p' || g FROM generate_series(1, ${ROWS}) g;
      INSERT INTO t42 SELECT g, 'n' || g, now(), g FROM generate_series(1, ${ROWS}) g;
      GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO app;
      ANALYZE; SELECT pg_stat_statements_reset();`);
    await db.end();
    // The app's own role runs the workload; mai-gate reads as another (its own statements are left out).
    await workload(`postgres://app@127.0.0.1:${prod.port}/app`);
    const on = { dry_run: { other_branches: 0 } };
    const variants: [string, Record<string, unknown>, string][] = [
      ["today: warm dry run (site safety off)", { dry_run: { site_safety: false } }, ""],
      ["+ live queries, lock impact", on, ""],
      ["+ data probes (prod.probe: true)", { ...on, prod: { probe: true } }, ""],
      // SET search_path bounds nothing by name: every collected query is prepared (the worst case).
      [
        "worst case: every query prepared, probes",
        { ...on, prod: { probe: true } },
        "SET search_path = public;\n",
      ],
    ];
    const spaces: { label: string; ws: Workspace; counts: number[]; warm: number[] }[] = [];
    for (const [label, extra, prefix] of variants) {
      const { prod: prodExtra, ...rest } = extra as { prod?: Record<string, unknown> };
      const sandbox = await createGitSandbox({
        config: {
          migrations: { dir: DIR, history_table: "paliad.applied_migrations" },
          prod: { dsn: "env:PROD_RO_DSN", ...prodExtra },
          // The machine's server as a superuser scratch: said, not hidden (production is another cluster).
          scratch: { dsn: "env:SCRATCH_DSN", allow_superuser: true },
          ...rest,
        },
        files: Object.fromEntries(files),
        prefix: "mai-gate-bench-",
      });
      sandboxes.push(sandbox);
      const ws = new Workspace({
        cwd: await sandbox.worktree("mai/bench/site"),
        env: { PROD_RO_DSN: prodDsn, SCRATCH_DSN: SCRATCH, MAI_WORKER: "bench" },
      });
      spaces.push({ label, ws, counts: await firstRun(ws, prefix), warm: [] });
    }
    // Round robin: the three ways share whatever else the machine is doing at each moment.
    for (let i = 0; i < 30; i++) {
      for (const s of spaces) s.warm.push(...(await timeEach(1, () => dryRun(s.ws, {}))));
    }
    for (const s of spaces) {
      rows.push([s.label, ...s.counts, s.warm.length, percentile(s.warm, 50), percentile(s.warm, 95)]);
      await s.ws.close();
    }
  } finally {
    for (const s of sandboxes) await s.cleanup();
    await prod.stop();
  }
  report(rows);
}

/** The branch migration written where its lease says, and its first (cold) dry run, which must pass. */
async function firstRun(ws: Workspace, prefix: string): Promise<number[]> {
  const lease = (await reserveSlot(ws, { name: "branch_change" })).leases[0]!;
  await writeFile(
    lease.paths[0]!,
    `${prefix}ALTER TABLE t42 ADD COLUMN flag boolean;\nALTER TABLE t42 ALTER COLUMN name SET NOT NULL;\nALTER TABLE t42 ADD CONSTRAINT t42_name CHECK (length(name) > 0);\nCREATE INDEX t42_flag ON t42 (flag);\n`,
  );
  const first = await dryRun(ws, {});
  if (!first.passed)
    throw new Error(`bench dry run failed: ${JSON.stringify([first.files, first.site.findings])}`);
  return [first.site.queries.collected, first.site.queries.prepared];
}

function report(rows: (string | number)[][]): void {
  printTable(
    `site safety on a warm dry run: ${TABLES} tables, ${ROWS} rows probed, 500 statements in pg_stat_statements (ms)`,
    ["way", "collected", "prepared", "n", "p50", "p95"],
    rows,
  );
  const p50 = (i: number) => rows[i]![4] as number;
  console.log(
    `goal: added cost <= 100 ms p50 -> ${(p50(2) - p50(0)).toFixed(0)} ms with queries, probes and lock impact (${(p50(2) / p50(0)).toFixed(2)}x today's warm dry run); every query prepared: ${(p50(3) - p50(0)).toFixed(0)} ms`,
  );
}
