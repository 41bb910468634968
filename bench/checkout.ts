import { join } from "node:path";
import { execa } from "execa";
import { cleanCheckout } from "../src/git/checkout.js";
import { createGit } from "../src/git/git.js";
import { createGitSandbox } from "../src/sandbox/git-sandbox.js";
import { percentile, printTable, timeEach } from "./stats.js";

const FILES = 3000;

/**
 * What a clean checkout of the commit costs a suite run, against running in place: a repository of
 * 3,000 files (~12 MB), one trivial step (`sh -c true`) in the worktree as the baseline, then the
 * first checkout (a new worktree) and the reset of a reused one to each new commit.
 */
export async function benchCheckout(): Promise<void> {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`pkg${i % 60}/file${i}.go`] = `package p\n// ${"x".repeat(4000)}\n`;
  const sandbox = await createGitSandbox({
    config: { migrations: { dir: "db/migrations" } },
    files: { "db/migrations/001_init.sql": "SELECT 1;\n", ...files },
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("mai/bench/checkout");
    const git = createGit(cwd);
    const root = join(sandbox.host, ".git", "mai-gate", "checkouts");
    const rev = async () => (await git.run(["rev-parse", "HEAD", "HEAD^{tree}"])).stdout.trim().split("\n");
    const inPlace = await timeEach(20, () => execa("sh", ["-c", "true"], { cwd }));
    const first = await timeEach(1, async () => {
      const [head, tree] = await rev();
      const c = await cleanCheckout(git, root, "bench", head!, tree!);
      await execa("sh", ["-c", "true"], { cwd: c.path });
      await c.release();
    });
    const reuse = await timeEach(10, async (i) => {
      await sandbox.git(cwd, "commit", "-q", "--allow-empty", "-m", `run ${i}`);
      const [head, tree] = await rev();
      const c = await cleanCheckout(git, root, "bench", head!, tree!);
      await execa("sh", ["-c", "true"], { cwd: c.path });
      await c.release();
    });
    const base = percentile(inPlace, 50);
    printTable(
      `suite step on a clean checkout of the commit vs in the worktree (${FILES} files; ms)`,
      ["way", "n", "p50", "p95", "vs in place"],
      [
        ["in place: sh -c true (baseline)", inPlace.length, base, percentile(inPlace, 95), 1],
        ["clean checkout, first (worktree add)", 1, first[0]!, first[0]!, first[0]! / base],
        [
          "clean checkout, reused (reset + verify)",
          reuse.length,
          percentile(reuse, 50),
          percentile(reuse, 95),
          percentile(reuse, 50) / base,
        ],
      ],
    );
  } finally {
    await sandbox.cleanup();
  }
}
