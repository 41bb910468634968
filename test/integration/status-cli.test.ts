import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type LocalServer, type Reply, refusedUrl, startServer } from "../helpers/local-server.js";
import { CLI } from "../helpers/stdio.js";

describe("mai-gate status through the built CLI: exit 0 only when healthy (Gitea and the health endpoint are local servers speaking their JSON)", () => {
  let app: App;
  let server: LocalServer;
  let mainSha = "";
  let health: () => Reply;
  beforeAll(async () => {
    server = await startServer((req) => {
      const path = req.url.pathname;
      if (path.includes("/commits/"))
        return {
          status: 200,
          json: {
            state: "success",
            sha: mainSha,
            total_count: 1,
            statuses: [{ status: "success", context: "ci" }],
          },
        };
      if (path.endsWith("/actions/runs")) return { status: 200, json: { total_count: 0, workflow_runs: [] } };
      if (path === "/readyz") return health();
      return { status: 404, text: "not found" };
    });
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
  });
  afterAll(async () => {
    await app.cleanup();
    await server.close();
  });

  /** Commits this `deploy:` block to main and runs `mai-gate status ...args` in a fresh worktree. */
  const status = async (deploy: string, args: string[] = [], env: Record<string, string> = {}) => {
    mainSha = await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
deploy: { ${deploy}${deploy ? ", " : ""}timeout_ms: 2000, cache_seconds: 30 }
`,
      },
      "status config",
    );
    const cwd = await app.sandbox.worktree(`mai/cli/${Math.random().toString(36).slice(2, 8)}`);
    return execa(process.execPath, [CLI, "status", ...args], {
      cwd,
      env: { ...app.env, GITEA_TOKEN: "t0k3n", ...env },
      reject: false,
    });
  };
  const configured = () =>
    `gitea: { url: "${server.url}", repo: owner/app, token: env:GITEA_TOKEN }, health_url: "${server.url}/readyz"`;

  it("CI and the live check configured, answering and green → HEALTHY, exit 0; --json says the same", async () => {
    health = () => ({ status: 200, json: { git_sha: mainSha, schema_version: 2 } });
    const r = await status(configured());
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Production is HEALTHY\. Safe to merge now\? yes: main is green and live\./);
    expect(r.exitCode).toBe(0);
    const j = await status(configured(), ["--json"]);
    expect(j.exitCode).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      verdict: "healthy",
      safe_to_merge: { answer: true },
      cached_ms: null,
    });
  });

  it("production configured but unreachable, nothing else configured → UNKNOWN, cannot tell, exit 1", async () => {
    const dead = new URL(await refusedUrl());
    const r = await status("", [], { PROD_RO_DSN: `postgres://postgres@127.0.0.1:${dead.port}/postgres` });
    expect(r.stdout).toContain("Production is UNKNOWN");
    expect(r.stdout).toContain("Safe to merge now? cannot tell: production unreachable (");
    expect(r.stdout).not.toContain("HEALTHY");
    expect(r.exitCode).toBe(1);
    const j = await status("", ["--json"], {
      PROD_RO_DSN: `postgres://postgres@127.0.0.1:${dead.port}/postgres`,
    });
    expect(j.exitCode).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ verdict: "unknown", safe_to_merge: { answer: false } });
  });

  it("the live site answers 503 → DOWN, exit 1", async () => {
    health = () => ({ status: 503, text: "Service Unavailable" });
    const r = await status(configured());
    expect(r.stdout).toContain("Production is DOWN. Safe to merge now? no: the live site is down");
    expect(r.exitCode).toBe(1);
  });

  it("asks every source now, even with an answer shared a moment ago (cache_seconds: 30)", async () => {
    health = () => ({ status: 200, json: { git_sha: mainSha, schema_version: 2 } });
    const first = await status(configured(), ["--json"]);
    const before = server.requests.length;
    const cwd = await app.sandbox.worktree(`mai/cli/again-${Math.random().toString(36).slice(2, 8)}`);
    const again = await execa(process.execPath, [CLI, "status", "--json"], {
      cwd,
      env: { ...app.env, GITEA_TOKEN: "t0k3n" },
      reject: false,
    });
    expect(JSON.parse(first.stdout).cached_ms).toBeNull();
    expect(JSON.parse(again.stdout).cached_ms).toBeNull();
    expect(server.requests.length).toBeGreaterThan(before);
  });
});
