import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { createGitSandbox } from "../src/sandbox/git-sandbox.js";
import { reserveSlot } from "../src/slots/reserve.js";
import { Workspace } from "../src/workspace.js";
import { percentile, printTable, timeEach } from "./stats.js";

const CLI = resolve(import.meta.dirname, "../src/cli.js");
const DIR = "db/migrations";
const TABLES = 150;

/** 150 tables with an index and a foreign key each, replayed from empty (no production needed). */
function migrations(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= TABLES; i++) {
    const fk = i > 1 ? `, parent_id bigint REFERENCES t${i - 1} (id)` : "";
    files[`${DIR}/${String(i).padStart(3, "0")}_create_t${i}.sql`] =
      `CREATE TABLE t${i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now()${fk});\nCREATE INDEX t${i}_name ON t${i} (name);\n`;
  }
  return files;
}

/**
 * The first embedded (PGlite) dry run of a new process — `mai-gate dry-run`, spawned — without a
 * snapshot (PGlite's cold start plus building the baseline, then saving it) and with the snapshot
 * an earlier process saved, next to a process that does nothing (`node -e 0`).
 */
export async function benchPgliteSnapshot(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: {
      migrations: { dir: DIR, history_table: "public.schema_migrations" },
      scratch: { baseline: "replay" },
    },
    files: migrations(),
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("mai/bench/snapshot");
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MAI_WORKER: "bench" };
    const ws = new Workspace({ cwd, env });
    const lease = (await reserveSlot(ws, { name: "branch_change" })).leases[0]!;
    await writeFile(
      lease.paths[0]!,
      "ALTER TABLE t42 ADD COLUMN flag boolean;\nCREATE INDEX t42_flag ON t42 (flag);\n",
    );
    const snapshots = await ws.pgliteSnapshotDir((await ws.view()).loaded);
    await ws.close();

    const seen: string[] = [];
    const dryRun = async () => {
      const r = await execa(process.execPath, [CLI, "dry-run", "--json"], {
        cwd,
        env: { ...env, MAI_GATE_LOG: "error" },
        extendEnv: false,
        reject: false,
      });
      const out = JSON.parse(r.stdout) as { passed: boolean; template: { built_from: unknown } | null };
      if (!out.passed) throw new Error(`bench dry run failed: ${r.stdout.slice(0, 400)}`);
      seen.push(String(out.template?.built_from));
    };
    const node = await timeEach(5, () => execa(process.execPath, ["-e", "0"]));
    const cold = await timeEach(3, async () => {
      await rm(snapshots, { recursive: true, force: true });
      await dryRun();
    });
    const coldFrom = seen.splice(0);
    const warm = await timeEach(5, dryRun);
    const rows: (string | number)[][] = [
      ["node -e 0", node.length, percentile(node, 50), percentile(node, 95)],
      [
        `first dry run, no snapshot (built_from ${coldFrom[0]})`,
        cold.length,
        percentile(cold, 50),
        percentile(cold, 95),
      ],
      [
        `first dry run, with snapshot (built_from ${seen[0]})`,
        warm.length,
        percentile(warm, 50),
        percentile(warm, 95),
      ],
    ];
    printTable(
      `first embedded dry run of a new process (mai-gate dry-run, PGlite, replay of ${TABLES} tables; ms)`,
      ["way", "n", "p50", "p95"],
      rows,
    );
    console.log(
      `goal: first dry run with a snapshot <= 1.5 s -> ${(percentile(warm, 50) / 1000).toFixed(2)} s (no snapshot: ${(percentile(cold, 50) / 1000).toFixed(2)} s); snapshots in ${join(snapshots)}`,
    );
  } finally {
    await sandbox.cleanup();
  }
}
