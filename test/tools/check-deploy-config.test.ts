import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

const EXAMPLE = resolve(import.meta.dirname, "../../examples/swarm-deploy.yaml");

const OUTAGE = `services:
  app:
    image: registry.example/app:latest
    command: ["/app", "-migrate", "serve"]
    deploy:
      replicas: 1
`;

interface Checked {
  safe: boolean;
  verdict: string;
  checks: {
    source: string;
    findings: { rule: string; line: number | null; default_assumed: boolean; fix: string }[];
  }[];
  errors: { source: string; error: string }[];
}

describe("check_deploy_config and the deploy_status line", () => {
  let sandbox: GitSandbox;
  const sessions: Connected[] = [];
  const session = async (branch: string) => {
    const c = await connect({ cwd: await sandbox.worktree(branch), env: {} });
    sessions.push(c);
    return c;
  };
  const configure = (compose: string, extra = "") =>
    sandbox.commitToMain(
      {
        "deploy/stack.yaml": compose,
        "mai-gate.yaml": `migrations: { dir: db/migrations }\ndeploy:\n  compose: deploy/stack.yaml\n  cache_seconds: 0\n${extra}`,
      },
      "deploy settings",
    );

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

  it("the outage's stack file (read from main): every finding with its line, defaults said", async () => {
    await configure(OUTAGE);
    const c = await session("mai/dc/outage");
    const result = await c.call("check_deploy_config", {});
    const r = structured<Checked>(result);
    expect(r.safe).toBe(false);
    const byRule = new Map(r.checks[0]!.findings.map((f) => [f.rule, f]));
    expect([...byRule.keys()].sort()).toEqual(
      [
        "failure_action",
        "migrations_in_entrypoint",
        "monitor_too_short",
        "no_healthcheck",
        "no_rollback_config",
        "restart_unbounded",
        "update_order",
      ].sort(),
    );
    expect(byRule.get("migrations_in_entrypoint")?.line).toBe(4);
    expect(byRule.get("failure_action")?.default_assumed).toBe(true);
    expect(byRule.get("failure_action")?.fix).toContain("failure_action: rollback");
    expect(textOf(result)).toContain("deploy/stack.yaml:4");

    const status = structured<{ deploy_config: { data: { safe: boolean } }; reasons: string[] }>(
      await c.call("deploy_status", {}),
    );
    expect(status.deploy_config.data.safe).toBe(false);
    expect(status.reasons.join(" ")).toContain("risk: the next failed deploy can take the site down");
  });

  it("the recommended example passes, and deploy_status says a failed deploy keeps the old container serving", async () => {
    await configure(await readFile(EXAMPLE, "utf8"));
    const c = await session("mai/dc/example");
    const r = structured<Checked>(await c.call("check_deploy_config", {}));
    expect(r).toMatchObject({ safe: true, verdict: "a failed deploy keeps the old container serving" });
    const status = structured<{ deploy_config: { data: { safe: boolean; verdict: string } } }>(
      await c.call("deploy_status", {}),
    );
    expect(status.deploy_config.data).toMatchObject({
      safe: true,
      verdict: "a failed deploy keeps the old container serving",
    });
  });

  it("a file in the worktree; not YAML and not a compose file are clear errors", async () => {
    const c = await session("mai/dc/files");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "broken.yaml"), "services: [\n");
    expect(textOf(await c.call("check_deploy_config", { file: "broken.yaml" }))).toMatch(/line \d/);
    await writeFile(join(root, "other.yaml"), "name: not a stack\n");
    expect(textOf(await c.call("check_deploy_config", { file: "other.yaml" }))).toContain(
      "is not a compose file",
    );
  });

  it("an unreachable Dokploy is reported for that source, the file is still checked", async () => {
    await configure(
      await readFile(EXAMPLE, "utf8"),
      '  dokploy: { url: "http://127.0.0.1:9", api_key: k, application_id: app1 }\n  timeout_ms: 500\n',
    );
    const c = await session("mai/dc/dokploy");
    const r = structured<Checked>(await c.call("check_deploy_config", {}));
    expect(r.checks).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ source: "dokploy:app1" });
    expect(r.safe).toBe(false);
  });

  it("mai-gate doctor deploy FILE exits 0 on the example and 1 on the outage's file", async () => {
    await configure(await readFile(EXAMPLE, "utf8"));
    const cwd = await sandbox.worktree("mai/dc/cli");
    await writeFile(join(cwd, "outage.yaml"), OUTAGE);
    const good = await execa(process.execPath, [CLI, "doctor", "deploy", EXAMPLE], { cwd, reject: false });
    expect(good.exitCode).toBe(0);
    expect(good.stdout).toContain("a failed deploy keeps the old container serving");
    const bad = await execa(process.execPath, [CLI, "doctor", "deploy", "outage.yaml"], {
      cwd,
      reject: false,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain("outage.yaml:4");
    const outside = await execa(process.execPath, [CLI, "doctor", "deploy", EXAMPLE], {
      cwd: "/",
      reject: false,
    });
    expect(outside.exitCode).toBe(0);
  });
});
