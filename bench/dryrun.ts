import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { dryRun } from "../src/dryrun/service.js";
import { createGitSandbox } from "../src/sandbox/git-sandbox.js";
import { reserveSlot } from "../src/slots/reserve.js";
import { Workspace } from "../src/workspace.js";
import { percentile, printTable, timeEach } from "./stats.js";

const ADMIN = process.env.MAI_GATE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DIR = "db/migrations";
const TABLES = 150;
const PENDING = 20;

/** 150 tables with indexes and foreign keys (applied), then 20 of main's migrations production lacks. */
function migrations(tag: string): { applied: [string, string][]; pending: [string, string][] } {
  const applied: [string, string][] = [];
  for (let i = 1; i <= TABLES; i++) {
    const fk = i > 1 ? `, parent_id bigint REFERENCES ${tag}_t${i - 1} (id)` : "";
    const sql = `CREATE TABLE ${tag}_t${i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now()${fk});
CREATE INDEX ${tag}_t${i}_name ON ${tag}_t${i} (name);\n`;
    applied.push([`${DIR}/${String(i).padStart(3, "0")}_create_t${i}.sql`, sql]);
  }
  const pending: [string, string][] = [];
  for (let j = 1; j <= PENDING; j++) {
    const v = TABLES + j;
    pending.push([
      `${DIR}/${v}_alter_t${j}.sql`,
      `ALTER TABLE ${tag}_t${j} ADD COLUMN extra_${j} int;\nCREATE INDEX ${tag}_t${j}_extra ON ${tag}_t${j} (extra_${j});\n`,
    ]);
  }
  return { applied, pending };
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const dsnFor = (db: string) => {
  const u = new URL(ADMIN);
  u.pathname = `/${db}`;
  return u.toString();
};

/**
 * Dry run of one branch migration against a generated production (150 tables, 20 pending on main):
 * cold first run, warm runs, the naive way (restore the dump into a fresh database and apply
 * everything) and the floor (psql applying the file to an already-prepared database), then PGlite.
 */
export async function benchDryRun(): Promise<void> {
  const tag = `b${randomBytes(3).toString("hex")}`;
  const prodDb = `maigate_bench_prod_${tag}`;
  const { applied, pending } = migrations(tag);
  await admin((c) => c.query(`CREATE DATABASE ${prodDb}`));
  const prod = new pg.Client({ connectionString: dsnFor(prodDb) });
  await prod.connect();
  await prod.query(
    "CREATE SCHEMA paliad; CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text)",
  );
  for (const [, sql] of applied) await prod.query(sql);
  await prod.query(
    `INSERT INTO paliad.applied_migrations SELECT g, 'create_t' || g FROM generate_series(1, ${TABLES}) g`,
  );
  await prod.end();
  const rows: (string | number)[][] = [];
  const sandboxes: Awaited<ReturnType<typeof createGitSandbox>>[] = [];
  try {
    for (const engine of ["postgres", "pglite"] as const) {
      const sandbox = await createGitSandbox({
        config: {
          migrations: { dir: DIR, history_table: "paliad.applied_migrations" },
          prod: { dsn: "env:PROD_RO_DSN" },
          // The bench runs "production" and scratch on one local server as its superuser: said, not hidden.
          scratch:
            engine === "postgres"
              ? { dsn: "env:SCRATCH_DSN", allow_superuser: true, allow_production_server: true }
              : {},
        },
        files: Object.fromEntries([...applied, ...pending]),
        prefix: "mai-gate-bench-",
      });
      sandboxes.push(sandbox);
      const cwd = await sandbox.worktree(`mai/bench/${engine}`);
      const ws = new Workspace({
        cwd,
        env: { PROD_RO_DSN: dsnFor(prodDb), SCRATCH_DSN: ADMIN, MAI_WORKER: "bench" },
      });
      const lease = (await reserveSlot(ws, { name: "branch_change" })).leases[0]!;
      const branchSql = `ALTER TABLE ${tag}_t42 ADD COLUMN flag boolean;\nCREATE INDEX ${tag}_t42_flag ON ${tag}_t42 (flag);\n`;
      await writeFile(lease.paths[0]!, branchSql);
      const t0 = performance.now();
      const first = await dryRun(ws, {});
      const cold = performance.now() - t0;
      if (!first.passed) throw new Error(`bench dry run failed: ${JSON.stringify(first.files[0]?.failure)}`);
      const warm = await timeEach(engine === "postgres" ? 30 : 10, () => dryRun(ws, {}));
      rows.push([`${engine}: cold first run`, 1, cold, cold]);
      rows.push([`${engine}: warm dry run`, warm.length, percentile(warm, 50), percentile(warm, 95)]);
      if (engine === "postgres")
        rows.push(...(await baselines(prodDb, pending, lease.paths[0]!, sandbox.dir)));
      await ws.close();
    }
  } finally {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${prodDb} WITH (FORCE)`));
    for (const s of sandboxes) await s.cleanup();
  }
  printTable(
    `dry run of one branch migration: ${TABLES} tables with indexes and FKs, ${PENDING} pending on main (ms)`,
    ["way", "n", "p50", "p95"],
    rows,
  );
  const get = (label: string) => rows.find((r) => r[0] === label)?.[2] as number;
  const warmP50 = get("postgres: warm dry run");
  const naive = get("naive: restore dump + apply all (psql)");
  console.log(
    `goals: warm p50 <= 150 ms -> ${warmP50.toFixed(0)} ms; >= 10x faster than naive -> ${(naive / warmP50).toFixed(1)}x; cold <= 5 s -> ${(get("postgres: cold first run") / 1000).toFixed(2)} s; floor ratio ${(warmP50 / get("floor: psql applies the file to a prepared db")).toFixed(1)}x`,
  );
}

/** The naive way and the floor, both with psql, in the same run. */
async function baselines(prodDb: string, pending: [string, string][], branchFile: string, dir: string) {
  const dump = join(dir, "prod.sql");
  await execa("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "-f", dump, dsnFor(prodDb)]);
  const pendingFile = join(dir, "pending.sql");
  await writeFile(pendingFile, pending.map(([, sql]) => sql).join("\n"));
  const psql = (db: string, ...args: string[]) =>
    execa("psql", ["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", dsnFor(db), ...args]);
  const naive = await timeEach(5, async (i) => {
    const db = `maigate_bench_naive_${i}_${randomBytes(3).toString("hex")}`;
    await admin((c) => c.query(`CREATE DATABASE ${db}`));
    try {
      await psql(db, "-f", dump);
      await psql(db, "-f", pendingFile);
      await psql(db, "-1", "-f", branchFile);
    } finally {
      await admin((c) => c.query(`DROP DATABASE ${db} WITH (FORCE)`));
    }
  });
  const prepared = `maigate_bench_floor_${randomBytes(3).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${prepared}`));
  try {
    await psql(prepared, "-f", dump);
    await psql(prepared, "-f", pendingFile);
    const wrapped = join(dir, "floor.sql");
    await writeFile(wrapped, `BEGIN;\n\\i ${branchFile}\nROLLBACK;\n`);
    const floor = await timeEach(20, () => psql(prepared, "-f", wrapped));
    return [
      ["naive: restore dump + apply all (psql)", naive.length, percentile(naive, 50), percentile(naive, 95)],
      [
        "floor: psql applies the file to a prepared db",
        floor.length,
        percentile(floor, 50),
        percentile(floor, 95),
      ],
    ];
  } finally {
    await admin((c) => c.query(`DROP DATABASE ${prepared} WITH (FORCE)`));
  }
}
