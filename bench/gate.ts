import { writeFile } from "node:fs/promises";
import { execa } from "execa";
import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { callOk, spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const DIR = "internal/db/migrations";

/**
 * gate_status over stdio on a branch with three migrations whose suite run and dry runs are
 * recorded (embedded PGlite, replay baseline), next to an MCP ping on the same server.
 */
export async function benchGate(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: {
      migrations: { dir: DIR },
      scratch: { baseline: "replay" },
      suite: { pre_push: [{ name: "ok", run: "true" }] },
    },
    files: numberedMigrations(DIR, 100),
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("mai/bench/gate");
    const client = await spawnClient(cwd);
    const call = (name: string, args: Record<string, unknown> = {}) => callOk(client, name, args);
    for (const n of ["one", "two", "three"]) {
      const lease = (await call("reserve_migration_slot", { name: `add_${n}` })).leases as {
        paths: string[];
      }[];
      await writeFile(lease[0]!.paths[0]!, `CREATE TABLE gate_${n} (id int);\n`);
    }
    await execa("git", ["add", "-A"], { cwd });
    await execa(
      "git",
      ["-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-qm", "three migrations"],
      { cwd },
    );
    await execa("git", ["push", "-q", "origin", "HEAD"], { cwd });
    await call("dry_run_migration");
    await call("run_pre_push_suite");
    if ((await call("gate_status")).green !== true) throw new Error("the bench's gate is not green");
    const ping = await timeEach(50, () => client.ping());
    const gate = await timeEach(50, () => call("gate_status"));
    await client.close();
    printTable(
      "gate_status over stdio, three recorded migrations (ms)",
      ["round trip", "n", "p50", "p99", "ratio p50 vs ping"],
      [
        ["MCP ping (baseline)", ping.length, percentile(ping, 50), percentile(ping, 99), 1],
        [
          "gate_status",
          gate.length,
          percentile(gate, 50),
          percentile(gate, 99),
          percentile(gate, 50) / percentile(ping, 50),
        ],
      ],
    );
    console.log(`goal: gate_status p50 < 200 ms -> ${percentile(gate, 50).toFixed(1)} ms`);
  } finally {
    await sandbox.cleanup();
  }
}
