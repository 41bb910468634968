import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { reserve, spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const DIR = "internal/db/migrations";

/**
 * Reservation round trip over stdio against a repository with 300 migrations on main and 200
 * remote branches, next to a no-op round trip (MCP ping) on the same server; then 16 concurrent
 * server processes on one state file.
 */
export async function benchReserve(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 5 } },
    files: numberedMigrations(DIR, 300),
    prefix: "mai-gate-bench-",
  });
  try {
    await sandbox.pushManyBranches(
      Array.from({ length: 200 }, (_, i) => ({
        name: `mai/w${i % 40}/task-${i}`,
        files:
          i % 2 === 0
            ? { [`${DIR}/${301 + i}_branch_${i}.sql`]: "SELECT 1;\n" }
            : { [`src/f${i}.go`]: "package x\n" },
      })),
    );
    const cwd = await sandbox.worktree("bench/solo");
    const client = await spawnClient(cwd, { MAI_WORKER: "solo" });
    await reserve(client, "warmup");
    await client.ping();
    const n = 300;
    const ping = await timeEach(n, () => client.ping());
    const res = await timeEach(n, (i) => reserve(client, `solo_${i}`));
    await client.close();
    const p50r = percentile(res, 50);
    const p50p = percentile(ping, 50);
    printTable(
      "reserve_migration_slot over stdio (300 migrations on main, 200 remote branches; ms)",
      ["round trip", "n", "p50", "p99", "ratio p50 vs ping"],
      [
        ["MCP ping (baseline)", n, p50p, percentile(ping, 99), 1],
        ["reserve_migration_slot", n, p50r, percentile(res, 99), p50r / p50p],
      ],
    );
    console.log(`goal: reserve p50 <= 15 ms -> ${p50r <= 15 ? "met" : "NOT met"} (${p50r.toFixed(2)} ms)`);

    const procs = 16;
    const each = 30;
    const clients = await Promise.all(
      Array.from({ length: procs }, (_, i) => spawnClient(cwd, { MAI_WORKER: `c${i}` })),
    );
    const t0 = performance.now();
    const versions = (
      await Promise.all(
        clients.map(async (c, i) => {
          const got: number[] = [];
          for (let k = 0; k < each; k++) got.push(await reserve(c, `conc_${i}_${k}`));
          return got;
        }),
      )
    ).flat();
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(clients.map((c) => c.close()));
    printTable(
      `${procs} concurrent server processes, one state file`,
      ["processes", "reservations", "seconds", "reservations/s", "duplicates"],
      [
        [
          procs,
          versions.length,
          seconds,
          versions.length / seconds,
          versions.length - new Set(versions).size,
        ],
      ],
    );
  } finally {
    await sandbox.cleanup();
  }
}
