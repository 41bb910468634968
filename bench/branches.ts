import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { reserve, spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const DIR = "internal/db/migrations";
const SIZES = [20, 200, 2_000, 10_000];
const FRESH = 3;
const WARM = 30;

/**
 * Reservation against 300 migrations on main and N remote branches (half of them with a migration
 * of their own): a fresh server process's first reserve (after a first process has run in the
 * repository, as on a team's host) and a warm server's p50, next to the same at 20 branches.
 */
export async function benchBranches(): Promise<void> {
  const rows: (string | number)[][] = [];
  let base: { fresh: number; warm: number } | undefined;
  for (const n of SIZES) {
    const figures = await measure(n);
    base ??= figures;
    rows.push([
      n,
      figures.first,
      figures.fresh,
      figures.fresh / base.fresh,
      figures.warm,
      figures.warm / base.warm,
    ]);
  }
  printTable(
    "reserve_migration_slot by number of remote branches (300 migrations on main; ms)",
    ["branches", "very first process", "fresh process p50", "ratio vs 20", "warm p50", "ratio vs 20"],
    rows,
  );
  const at2000 = rows.find((r) => r[0] === 2_000);
  console.log(
    `goals: fresh process at 2,000 branches <= 1.5x at 20 (${Number(at2000?.[3]).toFixed(2)}x); warm p50 <= 10 ms (${Number(at2000?.[4]).toFixed(2)} ms at 2,000)`,
  );
}

async function measure(n: number): Promise<{ first: number; fresh: number; warm: number }> {
  const sandbox = await createGitSandbox({
    config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 3600 } },
    files: numberedMigrations(DIR, 300),
    prefix: "mai-gate-bench-",
  });
  try {
    await sandbox.pushManyBranches(
      Array.from({ length: n }, (_, i) => ({
        name: `mai/w${i % 40}/task-${i}`,
        files:
          i % 2 === 0
            ? { [`${DIR}/${1_000 + i}_branch_${i}.sql`]: "SELECT 1;\n" }
            : { [`src/f${i}.go`]: "package x\n" },
      })),
    );
    await sandbox.fetchHost();
    // Refs packed as `git gc` leaves a repository: with thousands of loose refs right after a fetch,
    // `git for-each-ref` alone takes about 20 ms more at 2,000 branches.
    await sandbox.git(sandbox.host, "pack-refs", "--all");
    const cwd = await sandbox.worktree("bench/solo");
    const firstOf = async (worker: string) => {
      const client = await spawnClient(cwd, { MAI_WORKER: worker });
      const t = performance.now();
      await reserve(client, `${worker}_first`);
      const ms = performance.now() - t;
      return { client, ms };
    };
    const veryFirst = await firstOf("first");
    await veryFirst.client.close();
    const fresh: number[] = [];
    for (let i = 0; i < FRESH; i++) {
      const { client, ms } = await firstOf(`fresh${i}`);
      fresh.push(ms);
      if (i < FRESH - 1) await client.close();
      else {
        const warm = await timeEach(WARM, (k) => reserve(client, `warm_${k}`));
        await client.close();
        return { first: veryFirst.ms, fresh: percentile(fresh, 50), warm: percentile(warm, 50) };
      }
    }
    throw new Error("unreachable");
  } finally {
    await sandbox.cleanup();
  }
}
