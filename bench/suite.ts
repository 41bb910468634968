import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { createGitSandbox } from "../src/sandbox/git-sandbox.js";
import { spawnClient } from "./spawn.js";
import { percentile, printTable, timeEach } from "./stats.js";

const STEPS = ["sleep 1; seq 1 2000", "sleep 1; seq 1 2000 >&2", "sleep 1; echo done"];

/**
 * The same three one-second steps run by run_pre_push_suite (over stdio, on a fresh tree each time)
 * and by a plain shell script in the same run; then the answer time for a tree that already passed.
 */
export async function benchSuite(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: {
      migrations: { dir: "db/migrations" },
      suite: { pre_push: STEPS.map((run, i) => ({ name: `step${i + 1}`, run })) },
    },
    files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("mai/bench/suite");
    const client = await spawnClient(cwd);
    const runs = 5;
    const direct = await timeEach(runs, () => execa("sh", ["-c", STEPS.join(" && ")], { cwd }));
    const tool: number[] = [];
    for (let i = 0; i < runs; i++) {
      await writeFile(join(cwd, `change-${i}.txt`), String(i));
      await execa("git", ["add", "."], { cwd });
      await execa("git", ["-c", "user.name=b", "-c", "user.email=b@b.invalid", "commit", "-qm", `run ${i}`], {
        cwd,
      });
      const t = performance.now();
      const r = await client.callTool({ name: "run_pre_push_suite", arguments: {} });
      tool.push(performance.now() - t);
      if ((r.structuredContent as { state: string }).state !== "passed")
        throw new Error("bench suite failed");
    }
    const recorded = await timeEach(30, () => client.callTool({ name: "run_pre_push_suite", arguments: {} }));
    await client.close();
    const d = percentile(direct, 50);
    const t = percentile(tool, 50);
    printTable(
      "three 1-second steps: run_pre_push_suite over stdio vs a shell script (ms)",
      ["way", "n", "p50", "p95", "vs shell"],
      [
        ["shell script (baseline)", runs, d, percentile(direct, 95), 1],
        ["run_pre_push_suite", runs, t, percentile(tool, 95), t / d],
        [
          "answer for a recorded tree",
          recorded.length,
          percentile(recorded, 50),
          percentile(recorded, 95),
          percentile(recorded, 50) / d,
        ],
      ],
    );
    console.log(
      `goals: overhead < 5% -> ${(((t - d) / d) * 100).toFixed(1)}%; recorded tree < 50 ms -> ${percentile(recorded, 50).toFixed(1)} ms`,
    );
  } finally {
    await sandbox.cleanup();
  }
}
