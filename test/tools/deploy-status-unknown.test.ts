import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type LocalServer, type Reply, refusedUrl, startServer } from "../helpers/local-server.js";
import { structured, textOf } from "../helpers/mcp.js";

interface Status {
  verdict: string;
  reasons: string[];
  safe_to_merge: { answer: boolean; why: string };
  ci: { status: string };
  live: { status: string; error: string | null };
  production: { status: string; error: string | null };
}

const GITEA_MISSING =
  "deploy.gitea is not configured, so nothing reads main's CI (set deploy.gitea: { url, repo, token: env:GITEA_TOKEN } in mai-gate.yaml)";
const HEALTH_MISSING =
  "deploy.health_url is not configured, so nothing checks the live site (set deploy.health_url in mai-gate.yaml to the app's readiness URL)";

describe("deploy_status cannot tell, and so is never healthy or safe, when a source is missing or failed (Gitea and the health endpoint are local servers speaking their JSON)", () => {
  let app: App;
  let server: LocalServer;
  let mainSha = "";
  let ciState = "success";
  const reply = (path: string): Reply => {
    if (path.includes("/commits/"))
      return {
        status: 200,
        json: {
          state: ciState,
          sha: mainSha,
          total_count: 1,
          statuses: [{ status: ciState, context: "ci" }],
        },
      };
    if (path.endsWith("/actions/runs")) return { status: 200, json: { total_count: 0, workflow_runs: [] } };
    if (path === "/readyz") return { status: 200, json: { git_sha: mainSha, schema_version: 3 } };
    return { status: 404, text: "not found" };
  };
  const gitea = () => `gitea: { url: "${server.url}", repo: owner/app, token: env:GITEA_TOKEN }`;
  const health = () => `health_url: "${server.url}/readyz"`;

  beforeAll(async () => {
    server = await startServer((req) => reply(req.url.pathname));
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
  });
  afterAll(async () => {
    await app.cleanup();
    await server.close();
  });
  beforeEach(() => {
    ciState = "success";
  });

  /** Commits this `deploy:` block to main (the health endpoint then reports the new main) and asks. */
  const ask = async (deployLines: string[], env: Record<string, string> = {}) => {
    mainSha = await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
deploy:
${[...deployLines, "timeout_ms: 2000", "cache_seconds: 0"].map((l) => `  ${l}`).join("\n")}
`,
      },
      "deploy config",
    );
    const c = await app.session(`mai/unk/${Math.random().toString(36).slice(2, 8)}`, {
      GITEA_TOKEN: "t0k3n",
      ...env,
    });
    const result = await c.call("deploy_status", {});
    return { status: structured<Status>(result), text: textOf(result) };
  };

  it("the control: CI and the live check configured, answering and green → healthy and safe", async () => {
    const { status } = await ask([gitea(), health()]);
    expect(status.verdict).toBe("healthy");
    expect(status.safe_to_merge.answer).toBe(true);
  });

  it("production configured but unreachable (a freshly released local port), CI and health not configured → unknown, not safe", async () => {
    const dead = new URL(await refusedUrl());
    const dsn = `postgres://postgres@127.0.0.1:${dead.port}/postgres`;
    const { status, text } = await ask([], { PROD_RO_DSN: dsn });
    expect(status.production.status).toBe("failed");
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge.answer).toBe(false);
    expect(status.safe_to_merge.why).toMatch(/^cannot tell: production unreachable \(.*ECONNREFUSED.*\); /);
    expect(status.safe_to_merge.why).toContain(`; ${GITEA_MISSING}; ${HEALTH_MISSING}`);
    expect(status.reasons).toEqual([
      expect.stringMatching(/^production unknown: production is unreachable/),
      `ci not configured: ${GITEA_MISSING}`,
      `live not configured: ${HEALTH_MISSING}`,
    ]);
    expect(text).toMatch(/^Production is UNKNOWN: nothing seen is wrong, but not everything could be seen\./);
    expect(text).not.toContain("HEALTHY");
  });

  it("CI not configured, the live site up on main's sha → unknown, not safe, naming deploy.gitea", async () => {
    const { status } = await ask([health()]);
    expect(status.live.status).toBe("ok");
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge).toEqual({ answer: false, why: `cannot tell: ${GITEA_MISSING}` });
  });

  it("the live check not configured, CI green → unknown, not safe, naming deploy.health_url", async () => {
    const { status } = await ask([gitea()]);
    expect(status.ci.status).toBe("ok");
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge).toEqual({ answer: false, why: `cannot tell: ${HEALTH_MISSING}` });
  });

  it("a health_url of env:LIVE_URL with LIVE_URL unset is configured but failed, not missing", async () => {
    const { status } = await ask([gitea(), "health_url: env:LIVE_URL"]);
    expect(status.live).toMatchObject({
      status: "failed",
      error: "deploy.health_url names LIVE_URL, which is not set",
    });
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge.why).toBe(
      "cannot tell: the live site could not be checked (deploy.health_url names LIVE_URL, which is not set)",
    );
  });

  it("Gitea unreachable (a freshly released local port) → unknown, never degraded, not safe", async () => {
    const { status } = await ask([
      `gitea: { url: "${await refusedUrl()}", repo: owner/app, token: env:GITEA_TOKEN }`,
      health(),
    ]);
    expect(status.ci.status).toBe("failed");
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge.answer).toBe(false);
    expect(status.safe_to_merge.why).toMatch(
      /^cannot tell: main's CI could not be read \(gitea: connection refused \(127\.0\.0\.1:\d+\)\)$/,
    );
  });

  it("something known to be wrong wins over what is missing: CI failing, no live check → degraded, no", async () => {
    ciState = "failure";
    const { status } = await ask([gitea()]);
    expect(status.verdict).toBe("degraded");
    expect(status.safe_to_merge).toEqual({
      answer: false,
      why: "no: something on main or in production needs fixing first",
    });
    expect(status.reasons).toContain(`live not configured: ${HEALTH_MISSING}`);
  });
});
