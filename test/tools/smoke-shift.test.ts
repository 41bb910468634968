import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type LocalServer, type Reply, startServer } from "../helpers/local-server.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";

interface Suite {
  job_id: string;
  state: string;
  head: string;
  from_record: boolean;
  live: { up: boolean | null; sha: string | null; error: string | null } | null;
}

interface Status {
  verdict: string;
  reasons: string[];
  smoke: {
    data: {
      id: string;
      head: string;
      stale: boolean;
      ageMs: number;
      live: { sha: string | null; up: boolean | null } | null;
    } | null;
  };
}

const MIN = 60_000;

describe("the smoke shift against a local server speaking a health endpoint's JSON", () => {
  let sandbox: GitSandbox;
  let health: LocalServer;
  let mainSha: string;
  let answer: () => Reply;
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
  const open: Connected[] = [];
  const session = async (branch: string, env: Record<string, string>) => {
    const c = await connect({ cwd: await sandbox.worktree(branch), clock, env });
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    health = await startServer(() => answer());
    sandbox = await createGitSandbox({
      config: {
        migrations: { dir: "db/migrations" },
        suite: {
          pre_push: [{ name: "build", run: "true" }],
          smoke: [
            {
              name: "smoke",
              run: ["sh", "-c", 'test ! -f "$FAIL_FLAG"'],
              env: { FAIL_FLAG: "env:FAIL_FLAG" },
            },
          ],
          smoke_max_age_minutes: 30,
        },
        deploy: { health_url: `${health.url}/readyz`, cache_seconds: 0, timeout_ms: 1000 },
      },
      files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    });
    mainSha = (await sandbox.git(sandbox.seed, "rev-parse", "main")).trim();
    answer = () => ({ status: 200, json: { git_sha: mainSha } });
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await sandbox.cleanup();
    await health.close();
  });

  it("runs smoke every time, recording main's sha and the live sha it saw; deploy_status says how old, and stale", async () => {
    const tester = await session("smoke-desk", {
      MAI_ROLE: "tester",
      MAI_WORKER: "tess",
      FAIL_FLAG: "/nonexistent",
    });
    const first = await tester.call("run_pre_push_suite", {});
    const run = structured<Suite>(first);
    expect(run).toMatchObject({ state: "passed", head: mainSha, from_record: false });
    expect(run.live).toMatchObject({ up: true, sha: mainSha });
    const text = textOf(first);
    expect(text).toContain(`smoke passed on main ${mainSha.slice(0, 7)} (live ${mainSha.slice(0, 7)})`);
    expect(text).not.toMatch(/push|report_completed|commit/);

    // The same tree again: smoke still runs (a record of the tree says nothing about the live site).
    clock.advance(2 * MIN);
    const second = structured<Suite>(await tester.call("run_pre_push_suite", {}));
    expect(second.from_record).toBe(false);
    expect(second.job_id).not.toBe(run.job_id);

    clock.advance(12 * MIN);
    const status = await tester.call("deploy_status", {});
    const short = mainSha.slice(0, 7);
    expect(textOf(status)).toContain(`Smoke: passed 12 min ago on main ${short} (live ${short})`);
    expect(structured<Status>(status).smoke.data).toMatchObject({ id: second.job_id, stale: false });

    clock.advance(20 * MIN);
    const later = await tester.call("deploy_status", {});
    expect(textOf(later)).toContain(
      `Smoke: passed 32 min ago on main ${short} (live ${short}) — STALE (older than 30 min)`,
    );
    expect(structured<Status>(later).reasons.join("\n")).toContain(
      "the latest smoke run is stale: 32 min ago, older than suite.smoke_max_age_minutes (30)",
    );
  });

  it("calls out a contradiction: live down now, the latest smoke passed before it", async () => {
    const tester = await session("smoke-desk-2", { MAI_ROLE: "tester", FAIL_FLAG: "/nonexistent" });
    structured<Suite>(await tester.call("run_pre_push_suite", {}));
    clock.advance(5 * MIN);
    answer = () => ({ status: 404, text: "404 page not found" });
    try {
      const s = structured<Status>(await tester.call("deploy_status", {}));
      expect(s.verdict).toBe("down");
      expect(s.reasons.join("\n")).toContain("contradiction: live down, latest smoke passed before it");
      // A smoke run now records the site down when it started, and its answer says so.
      const down = await tester.call("run_pre_push_suite", {});
      expect(structured<Suite>(down).live).toMatchObject({ up: false, sha: null });
      expect(textOf(down)).toContain("while the live site was down");
      expect(textOf(down)).toContain("tell the head");
    } finally {
      answer = () => ({ status: 200, json: { git_sha: mainSha } });
    }
  });

  it("a failed smoke run tells the tester to tell the head, never to commit or push; a worker's smoke runs on main too", async () => {
    const flag = `${sandbox.dir}/smoke.fail`;
    const { writeFile } = await import("node:fs/promises");
    await writeFile(flag, "x");
    const tester = await session("smoke-desk-3", { MAI_ROLE: "tester", FAIL_FLAG: flag });
    const failed = await tester.call("run_pre_push_suite", {});
    expect(structured<Suite>(failed).state).toBe("failed");
    expect(textOf(failed)).toContain(
      "Next: call deploy_status (fresh: true) and tell the head: smoke failed",
    );
    expect(textOf(failed)).not.toMatch(/commit|push/);
    const s = structured<Status>(await tester.call("deploy_status", {}));
    expect(s.verdict).toBe("degraded");
    expect(s.reasons.join("\n")).toContain("the latest smoke run failed");

    const worker = await session("mai/wes/smoke", { FAIL_FLAG: "/nonexistent" });
    await sandbox.git(
      await worker.workspace.repo().then((r) => r.root),
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "w",
    );
    const mine = structured<Suite>(await worker.call("run_pre_push_suite", { profile: "smoke" }));
    expect(mine).toMatchObject({ state: "passed", head: mainSha });
  });

  it("offers the smoke shift's runbook as a prompt", async () => {
    const tester = await session("smoke-desk-4", { MAI_ROLE: "tester" });
    const prompt = await tester.client.getPrompt({ name: "smoke-shift" });
    const text = JSON.stringify(prompt.messages);
    expect(text).toContain("run_pre_push_suite");
    expect(text).toContain("deploy_status");
    expect(text).toContain("tell the head");
    const incident = JSON.stringify((await tester.client.getPrompt({ name: "deploy-incident" })).messages);
    expect(incident).toContain("degraded");
    expect(incident).toContain("deploying");
    expect(incident).not.toContain("README");
  });
});
