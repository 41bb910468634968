import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";

const suiteConfig = (steps: string) => `migrations: { dir: db/migrations }\nsuite:\n  pre_push:\n${steps}`;

describe("run_pre_push_suite refuses bad input clearly, with nothing left running", () => {
  let sandbox: GitSandbox;
  const sessions: Connected[] = [];
  const session = async (branch: string, env: Record<string, string> = {}) => {
    const c = await connect({ cwd: await sandbox.worktree(branch), env });
    sessions.push(c);
    return c;
  };
  const configure = (text: string) => sandbox.commitToMain({ "mai-gate.yaml": text }, "suite config");

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: "db/migrations" } },
      files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    });
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await sandbox.cleanup();
  });

  it("an unknown profile", async () => {
    const c = await session("mai/a/profile");
    const r = await c.call("run_pre_push_suite", { profile: "nightly" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("profile");
  });

  it("an empty suite", async () => {
    const c = await session("mai/a/empty");
    const r = await c.call("run_pre_push_suite", {});
    expect(textOf(r)).toContain("the pre_push suite is empty");
  });

  it("a cwd outside the worktree, or missing", async () => {
    await configure(suiteConfig('    - { name: escape, run: "true", cwd: "../.." }\n'));
    const c = await session("mai/a/cwd");
    expect(textOf(await c.call("run_pre_push_suite", {}))).toContain(
      'step "escape": cwd "../.." is outside the worktree',
    );
    await configure(suiteConfig('    - { name: nowhere, run: "true", cwd: "no/such/dir" }\n'));
    const d = await session("mai/a/cwd2");
    expect(textOf(await d.call("run_pre_push_suite", {}))).toContain('cwd "no/such/dir" does not exist');
  });

  it("a command that does not exist is a not_found step, and the suite fails", async () => {
    await configure(
      suiteConfig(
        '    - { name: missing, run: ["no-such-command-xyz", "--flag"] }\n    - { name: shell, run: "no-such-command-xyz" }\n',
      ),
    );
    const c = await session("mai/a/missing");
    const r = structured<{ state: string; steps: { status: string }[] }>(
      await c.call("run_pre_push_suite", {}),
    );
    expect(r.state).toBe("failed");
    expect(r.steps.map((s) => s.status)).toEqual(["not_found", "skipped"]);
  });

  it("wait_seconds out of range", async () => {
    await configure(suiteConfig('    - { name: ok, run: "true" }\n'));
    const c = await session("mai/a/wait");
    expect(textOf(await c.call("run_pre_push_suite", { wait_seconds: -1 }))).toContain(
      "[bad_input] run_pre_push_suite: wait_seconds: out of range: 0 to 600",
    );
    expect(textOf(await c.call("suite_status", { job_id: "Snope" }))).toContain("no suite job Snope");
  });

  it("a worktree that is not a git checkout", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mai-gate-nogit-"));
    try {
      const c = await connect({ cwd: dir, env: { GIT_CEILING_DIRECTORIES: tmpdir() } });
      sessions.push(c);
      expect(textOf(await c.call("run_pre_push_suite", {}))).toContain("is not inside a git repository");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the head may not run the suite", async () => {
    const c = await session("mai/a/head", { MAI_ROLE: "head" });
    expect(textOf(await c.call("run_pre_push_suite", {}))).toContain('role "head" may not run the suite');
  });
});
