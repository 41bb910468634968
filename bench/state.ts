import { randomBytes } from "node:crypto";
import pg from "pg";
import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { reserve, spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const ADMIN = process.env.MAI_GATE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Reservations with the PostgreSQL state store next to the SQLite one: latency, then 16 processes at once. */
export async function benchState(): Promise<void> {
  const db = `maigate_bench_state_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(ADMIN);
  url.pathname = `/${db}`;
  const sandbox = await createGitSandbox({
    config: { migrations: { dir: "db/migrations" } },
    files: numberedMigrations("db/migrations", 100),
    prefix: "mai-gate-bench-",
  });
  const rows: (string | number)[][] = [];
  try {
    const cwd = await sandbox.worktree("bench/state");
    for (const [label, state] of [
      ["SQLite (state.db in the git dir)", `${sandbox.dir}/bench-state.db`],
      ["PostgreSQL (shared store)", url.toString()],
    ] as const) {
      const solo = await spawnClient(cwd, { MAI_WORKER: "solo", MAI_GATE_STATE: state });
      await reserve(solo, "warmup");
      const lat = await timeEach(200, (i) => reserve(solo, `s_${i}`));
      await solo.close();
      const clients = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          spawnClient(cwd, { MAI_WORKER: `c${i}`, MAI_GATE_STATE: state }),
        ),
      );
      const t0 = performance.now();
      const versions = (
        await Promise.all(
          clients.map(async (c, i) =>
            Promise.all(
              [0, 1, 2, 3].map(async (g) => {
                const got: number[] = [];
                for (let k = 0; k < 5; k++) got.push(await reserve(c, `c${i}_${g}_${k}`));
                return got;
              }),
            ),
          ),
        )
      ).flat(2);
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all(clients.map((c) => c.close()));
      rows.push([
        label,
        percentile(lat, 50),
        percentile(lat, 99),
        versions.length / seconds,
        versions.length - new Set(versions).size,
      ]);
    }
  } finally {
    await sandbox.cleanup();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
  printTable(
    "reserve_migration_slot over stdio: the state store (ms; throughput with 16 server processes)",
    ["store", "p50", "p99", "reservations/s", "duplicates"],
    rows,
  );
}
