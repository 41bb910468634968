import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { callOk, spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const DIR = "internal/db/migrations";
const BRANCHES = 20;

/**
 * The head's review over stdio: one review_workers call for 20 worker branches (each with one
 * migration, no records) against what it replaces — list_slot_leases plus gate_status per branch —
 * next to an MCP ping on the same server.
 */
export async function benchReview(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: {
      migrations: { dir: DIR },
      scratch: { baseline: "replay" },
      git: { fetch_interval_seconds: 3600 },
    },
    files: numberedMigrations(DIR, 100),
    prefix: "mai-gate-bench-",
  });
  try {
    const names = Array.from({ length: BRANCHES }, (_, i) => `mai/w${i}/task`);
    await sandbox.pushManyBranches(
      names.map((name, i) => ({
        name,
        files: { [`${DIR}/${101 + i}_w${i}.sql`]: `CREATE TABLE w${i} (id int);\n` },
      })),
    );
    await sandbox.fetchHost();
    const cwd = await sandbox.worktree("head-bench");
    const client = await spawnClient(cwd, { MAI_ROLE: "head" });
    const review = await callOk(client, "review_workers");
    if ((review.workers as unknown[]).length !== BRANCHES)
      throw new Error("the bench's review misses workers");
    const ping = await timeEach(20, () => client.ping());
    const one = await timeEach(10, () => callOk(client, "review_workers"));
    const many = await timeEach(10, async () => {
      await callOk(client, "list_slot_leases");
      for (const branch of names) await callOk(client, "gate_status", { branch });
    });
    await client.close();
    const base = percentile(many, 50);
    printTable(
      `the head's review of ${BRANCHES} worker branches over stdio (ms)`,
      ["way", "n", "p50", "p95", "calls", "ratio p50 vs gate_status each"],
      [
        [
          "MCP ping (baseline)",
          ping.length,
          percentile(ping, 50),
          percentile(ping, 95),
          1,
          percentile(ping, 50) / base,
        ],
        [
          `list_slot_leases + ${BRANCHES} × gate_status`,
          many.length,
          base,
          percentile(many, 95),
          BRANCHES + 1,
          1,
        ],
        [
          "review_workers",
          one.length,
          percentile(one, 50),
          percentile(one, 95),
          1,
          percentile(one, 50) / base,
        ],
      ],
    );
  } finally {
    await sandbox.cleanup();
  }
}
