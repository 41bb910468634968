import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { spawnServer } from "../helpers/stdio.js";

/** Processes whose command line contains `marker` (read from /proc, like pgrep -f). */
async function processesWith(marker: string): Promise<number[]> {
  const { readdir } = await import("node:fs/promises");
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

async function peakRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
}

describe("suite steps as real processes of a real server", () => {
  let sandbox: GitSandbox;
  const marker = `299.${Date.now() % 100000}`;

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: `migrations: { dir: db/migrations }
suite:
  pre_push:
    - { name: hang, run: "sleep ${marker} & echo started; wait", timeout: 1 }
  smoke:
    - { name: flood, run: "head -c 157286400 /dev/zero | tr '\\\\0' x | fold -w 100" }
    - { name: slow, run: "sleep ${marker}1" }
`,
      files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    });
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("a step that hangs with a grandchild sleep is killed at its timeout, and nothing of it is left", async () => {
    const server = await spawnServer(await sandbox.worktree("mai/hang/x"));
    try {
      const r = await server.call("run_pre_push_suite", {});
      const out = r.structuredContent as { state: string; steps: { status: string; tail: string }[] };
      expect(out.state).toBe("failed");
      expect(out.steps[0]).toMatchObject({ status: "timed_out" });
      expect(out.steps[0]!.tail).toContain("started");
      expect(await processesWith(`sleep ${marker}`)).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("150 MB of output: the answer carries the tail and the server's memory grows far less than the output", async () => {
    const server = await spawnServer(await sandbox.worktree("mai/flood/x"), { MAI_ROLE: "tester" });
    try {
      await server.call("list_slot_leases", {});
      const before = await peakRssKb(server.pid!);
      const controller = new AbortController();
      const call = server.client.callTool({ name: "run_pre_push_suite", arguments: {} }, undefined, {
        signal: controller.signal,
        onprogress: (p) => {
          if (p.message === "step 2 of 2: slow") controller.abort();
        },
      });
      await expect(call).rejects.toThrow();
      const after = await peakRssKb(server.pid!);
      // Holding the output would take at least its 150 MB; the bounded tail and the lazily loaded
      // suite modules take a few tens of MB at most.
      expect(after - before).toBeLessThan(64 * 1024);
      // Cancelling the call cancelled the job and killed its process.
      let left = await processesWith(`sleep ${marker}1`);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await processesWith(`sleep ${marker}1`);
      }
      expect(left).toEqual([]);
      const status = await server.call("suite_status", {});
      const s = status.structuredContent as {
        state: string;
        steps: { name: string; status: string; output_bytes: number; tail: string }[];
      };
      expect(s.state).toBe("cancelled");
      expect(s.steps[0]!.output_bytes).toBeGreaterThan(150 * 1024 * 1024);
      expect(s.steps[0]!.tail.length).toBeLessThan(20 * 1024);
      expect(s.steps[1]!.status).toBe("cancelled");
    } finally {
      await server.close();
    }
  });
});
