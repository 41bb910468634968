import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";

const GO_FIXTURE = resolve(import.meta.dirname, "../fixtures/go/test-failed.txt");

interface Suite {
  job_id: string;
  state: string;
  finished: boolean;
  dirty: boolean;
  from_record: boolean;
  joined: boolean;
  accepted_by_gate: boolean;
  steps: {
    name: string;
    status: string;
    reason: string | null;
    tail: string | null;
    failing_tests: { name: string; file: string | null; line: number | null }[];
    failing_packages: string[];
    compile_errors: { file: string; line: number }[];
  }[];
}

const count = async (file: string) =>
  (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean).length;

describe("run_pre_push_suite and suite_status", () => {
  let sandbox: GitSandbox;
  let counter: string;
  const sessions: Connected[] = [];
  const session = async (branch: string, env: Record<string, string> = {}) => {
    const c = await connect({ cwd: await sandbox.worktree(branch), env: { MAI_COUNT: counter, ...env } });
    sessions.push(c);
    return c;
  };

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: {
        migrations: { dir: "db/migrations" },
        suite: {
          pre_push: [
            {
              name: "build",
              run: 'echo build >> "$MAI_COUNT"',
              env: { MAI_COUNT: "env:MAI_COUNT" },
              timeout: 30,
            },
            {
              name: "test",
              run: ["sh", "-c", "test ! -f fail.flag || { echo 'flag set' >&2; exit 4; }"],
              timeout: 30,
            },
            { name: "frontend", run: "pwd", cwd: "frontend", when: ["frontend/**"] },
          ],
          smoke: [{ name: "smoke", run: "git rev-parse HEAD" }],
        },
      },
      files: { "db/migrations/001_init.sql": "SELECT 1;\n", "frontend/app.js": "1\n", "README.md": "x\n" },
    });
    counter = join(sandbox.dir, "runs.log");
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await sandbox.cleanup();
  });

  it("runs, then answers an unchanged tree from the record, and runs again when one file changes", async () => {
    const c = await session("mai/ann/suite");
    const first = structured<Suite>(await c.call("run_pre_push_suite", {}));
    expect(first).toMatchObject({
      state: "passed",
      from_record: false,
      dirty: false,
      accepted_by_gate: true,
    });
    expect(first.steps.map((s) => [s.name, s.status])).toEqual([
      ["build", "passed"],
      ["test", "passed"],
      ["frontend", "skipped"],
    ]);
    expect(first.steps[2]!.reason).toContain("frontend/**");
    expect(await count(counter)).toBe(1);

    const second = structured<Suite>(await c.call("run_pre_push_suite", {}));
    expect(second).toMatchObject({ state: "passed", from_record: true, job_id: first.job_id });
    expect(await count(counter)).toBe(1);

    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "frontend/app.js"), "2\n");
    await sandbox.git(root, "commit", "-qam", "change the frontend");
    const third = structured<Suite>(await c.call("run_pre_push_suite", {}));
    expect(third.from_record).toBe(false);
    expect(third.steps.map((s) => s.status)).toEqual(["passed", "passed", "passed"]);
    expect(await count(counter)).toBe(2);
  });

  it("runs the committed tree, not the worktree: an uncommitted edit is not part of the run", async () => {
    const c = await session("mai/bob/dirty");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "README.md"), "uncommitted\n");
    const r = await c.call("run_pre_push_suite", {});
    expect(structured<Suite & { checkout: { kind: string } }>(r)).toMatchObject({
      state: "passed",
      dirty: true,
      checkout: { kind: "clean" },
    });
    expect(textOf(r)).toContain("Your uncommitted changes were NOT part of this run");
    expect(textOf(r)).toContain("Next: commit your changes (git add -A && git commit)");
  });

  it("reports a failing step with its exit and tail, skips the rest, and parses Go's output", async () => {
    await sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: db/migrations }
suite:
  pre_push:
    - { name: go-test, run: "cat ${GO_FIXTURE}; exit 1" }
    - { name: after, run: "true" }
`,
      },
      "a go suite",
    );
    const c = await session("mai/cid/go");
    const r = structured<Suite>(await c.call("run_pre_push_suite", {}));
    expect(r.state).toBe("failed");
    const step = r.steps[0]!;
    expect(step.status).toBe("failed");
    expect(step.failing_tests.map((t) => t.name)).toEqual(
      expect.arrayContaining(["TestMul", "TestDiv", "TestTable/two_by_three"]),
    );
    expect(step.failing_tests.find((t) => t.name === "TestMul")).toMatchObject({
      file: "calc_test.go",
      line: 7,
    });
    expect(step.failing_packages).toContain("example.com/app/calc");
    expect(step.compile_errors).toContainEqual(expect.objectContaining({ file: "broken/a.go", line: 5 }));
    expect(r.steps[1]).toMatchObject({ status: "skipped", reason: "an earlier step failed" });
    await sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: db/migrations }
suite:
  pre_push:
    - { name: build, run: 'echo build >> "$MAI_COUNT"', env: { MAI_COUNT: "env:MAI_COUNT" }, timeout: 30 }
    - { name: slow, run: "sleep 1" }
  smoke:
    - { name: smoke, run: "git rev-parse HEAD" }
`,
      },
      "back to a plain suite",
    );
  });

  it("answers with a job id after wait_seconds; suite_status waits for the end", async () => {
    const c = await session("mai/dan/wait");
    const early = structured<Suite>(await c.call("run_pre_push_suite", { wait_seconds: 0.2 }));
    expect(early).toMatchObject({ state: "running", finished: false });
    const joined = structured<Suite>(await c.call("run_pre_push_suite", { wait_seconds: 0 }));
    expect(joined).toMatchObject({ job_id: early.job_id, joined: true });
    const done = structured<Suite>(await c.call("suite_status", { job_id: early.job_id, wait_seconds: 30 }));
    expect(done).toMatchObject({ job_id: early.job_id, state: "passed", finished: true });
  });

  it("sends progress notifications through a real MCP client", async () => {
    const c = await session("mai/eve/progress");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "new.txt"), "x\n");
    await sandbox.git(root, "add", ".");
    await sandbox.git(root, "commit", "-qm", "a fresh tree");
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await c.client.callTool({ name: "run_pre_push_suite", arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    expect(result.isError).toBeFalsy();
    expect(seen.map((p) => p.message)).toEqual(
      expect.arrayContaining(["step 1 of 2: build", "step 1 of 2: build passed", "step 2 of 2: slow passed"]),
    );
    expect(seen.every((p) => p.total === 2)).toBe(true);
  });

  it("the tester runs the smoke profile on main's HEAD in a worktree of its own", async () => {
    const c = await session("mai/tess/x", { MAI_ROLE: "tester" });
    const r = structured<Suite & { head: string }>(await c.call("run_pre_push_suite", {}));
    const mainSha = (await sandbox.git(sandbox.host, "rev-parse", "origin/main")).trim();
    expect(r.state).toBe("passed");
    expect(r.head).toBe(mainSha);
    expect(r.steps[0]!.tail).toContain(mainSha);
    const store = await c.workspace.store(null);
    const [record] = await store.suiteRuns({ profile: "smoke", limit: 1 });
    expect(record).toMatchObject({ state: "passed", worker: "tess", head: mainSha, dirty: false });
  });
});
