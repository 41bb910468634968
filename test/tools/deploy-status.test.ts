import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type LocalServer, type Reply, type SeenRequest, startServer } from "../helpers/local-server.js";
import { structured, textOf } from "../helpers/mcp.js";

interface Status {
  verdict: string;
  reasons: string[];
  safe_to_merge: { answer: boolean; why: string };
  ci: { status: string; error: string | null; data: { state: string } | null };
  live: { status: string; data: { up: boolean; sha: string | null; reason: string | null } | null };
  production: { data: { pending: unknown[]; conflicts: { version: number }[] } | null };
  dokploy: { status: string; data: { status: string } | null };
}

/** What the fake Gitea, Dokploy and health endpoint answer in the current scenario. */
interface World {
  ci: Reply;
  health: Reply;
  dokploy: Reply;
}

describe("deploy_status against local servers speaking Gitea's, Dokploy's and a health endpoint's JSON", () => {
  let app: App;
  let server: LocalServer;
  let mainSha: string;
  let world: World;
  const giteaStatus = (state: string, statuses: { status: string; context: string }[]): Reply => ({
    status: 200,
    json: {
      state,
      sha: mainSha,
      total_count: statuses.length,
      statuses: statuses.map((s, i) => ({
        id: i + 1,
        ...s,
        target_url: `https://git.example/run/${i}`,
        description: s.status,
      })),
    },
  });
  const live = (sha: string): Reply => ({ status: 200, json: { git_sha: sha, schema_version: 5 } });
  const route = (req: SeenRequest): Reply => {
    const path = req.url.pathname;
    if (path.includes("/commits/")) return world.ci;
    if (path.endsWith("/actions/runs"))
      return {
        status: 200,
        json: {
          total_count: 1,
          workflow_runs: [
            {
              id: 7,
              run_number: 42,
              status: "completed",
              conclusion: "success",
              html_url: "https://git.example/r/42",
              head_sha: mainSha,
              display_title: "ci",
            },
          ],
        },
      };
    if (path === "/readyz") return world.health;
    if (path === "/api/deployment.all") return world.dokploy;
    return { status: 404, text: "not found" };
  };

  beforeAll(async () => {
    server = await startServer((req) => route(req));
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
deploy:
  gitea: { url: "${server.url}", repo: owner/app, token: env:GITEA_TOKEN }
  health_url: "${server.url}/readyz"
  dokploy: { url: "${server.url}", api_key: env:DOKPLOY_KEY, application_id: app1 }
  timeout_ms: 500
  cache_seconds: 0
`,
      },
      "deploy config",
    );
    mainSha = (await app.sandbox.git(app.sandbox.seed, "rev-parse", "main")).trim();
  });
  afterAll(async () => {
    await app.cleanup();
    await server.close();
  });
  beforeEach(() => {
    world = {
      ci: giteaStatus("success", [{ status: "success", context: "ci/build" }]),
      health: live(mainSha),
      dokploy: {
        status: 200,
        json: [
          {
            deploymentId: "d1",
            title: "deploy",
            status: "done",
            createdAt: "2026-11-25T10:00:00.000Z",
            finishedAt: "2026-11-25T10:01:00.000Z",
          },
        ],
      },
    };
  });

  const ask = async (env: Record<string, string> = {}) => {
    const c = await app.session(`mai/dep/${Math.random().toString(36).slice(2, 8)}`, {
      GITEA_TOKEN: "t0k3n",
      DOKPLOY_KEY: "k3y",
      ...env,
    });
    const result = await c.call("deploy_status", {});
    return { status: structured<Status>(result), text: textOf(result) };
  };

  it("healthy only here: CI configured and green, live check configured and answering main's sha, nothing pending", async () => {
    const { status, text } = await ask();
    expect(status.verdict).toBe("healthy");
    expect(status.safe_to_merge).toEqual({ answer: true, why: "yes: main is green and live" });
    expect(status.reasons).toEqual(["the live site answers ready, runs main's HEAD, and main's CI passed"]);
    expect(text).toMatch(/^Production is HEALTHY\. Safe to merge now\? yes: main is green and live\./);
    expect(text).not.toContain("As of");
    expect(status.dokploy.data?.status).toBe("done");
    const sent = server.requests.filter((r) => r.url.pathname === "/api/deployment.all").at(-1)!;
    expect(sent.headers["x-api-key"]).toBe("k3y");
  });

  it("CI failing on main → degraded, not safe to merge", async () => {
    world.ci = giteaStatus("failure", [{ status: "failure", context: "ci/test" }]);
    const { status } = await ask();
    expect(status.verdict).toBe("degraded");
    expect(status.reasons.join(" ")).toContain("CI failed on main");
    expect(status.safe_to_merge.answer).toBe(false);
  });

  it("no CI status yet → never success: deploying, not safe to merge", async () => {
    world.ci = giteaStatus("success", []);
    const { status } = await ask();
    expect(status.ci.data?.state).toBe("none");
    expect(status.verdict).toBe("deploying");
    expect(status.reasons.join(" ")).toContain("no CI status yet");
    expect(status.safe_to_merge.answer).toBe(false);
  });

  it("the site answers the proxy's default 404 → down", async () => {
    world.health = { status: 404, text: "404 page not found\n", type: "text/plain" };
    const { status } = await ask();
    expect(status.verdict).toBe("down");
    expect(status.live.data?.up).toBe(false);
    expect(status.reasons[0]).toContain("the live site is down");
  });

  it("the health endpoint times out → down, and not safe to merge", async () => {
    world.health = "hang";
    const { status } = await ask();
    expect(status.verdict).toBe("down");
    expect(status.live.data?.reason).toContain("timed out");
    expect(status.safe_to_merge.answer).toBe(false);
  });

  it("the health endpoint answers 503 → down is an answer: down, and no (not cannot tell)", async () => {
    world.health = { status: 503, text: "Service Unavailable" };
    const { status } = await ask();
    expect(status.live.status).toBe("ok");
    expect(status.verdict).toBe("down");
    expect(status.safe_to_merge).toEqual({
      answer: false,
      why: "no: the live site is down; fix it before adding changes",
    });
  });

  it("the deployed sha is behind main → deploying", async () => {
    world.health = live("0123456789abcdef0123456789abcdef01234567");
    const { status } = await ask();
    expect(status.verdict).toBe("deploying");
    expect(status.reasons.join(" ")).toContain("live runs 0123456789");
  });

  it("Gitea unreachable or answering 500 → the answer still comes, with that source failed", async () => {
    world.ci = { status: 500, json: { message: "internal error" } };
    const { status } = await ask();
    expect(status.ci.status).toBe("failed");
    expect(status.reasons.join(" ")).toContain("ci unknown");
    expect(status.verdict).toBe("unknown");
    expect(status.safe_to_merge.answer).toBe(false);
    expect(status.safe_to_merge.why).toBe(
      "cannot tell: main's CI could not be read (gitea: server error on commit status (HTTP 500): internal error)",
    );
    world.ci = "hang";
    const hung = await ask();
    expect(hung.status.ci.status).toBe("failed");
    expect(hung.status.ci.error).toContain("timed out");
    expect(hung.status.live.data?.up).toBe(true);
    expect(hung.status.verdict).toBe("unknown");
    expect(hung.status.safe_to_merge.answer).toBe(false);
  });

  it("bad config: no Gitea token → a clear error for that source only", async () => {
    const { status } = await ask({ GITEA_TOKEN: "" });
    expect(status.ci.status).toBe("failed");
    expect(status.ci.error).toContain("token");
    expect(status.live.status).toBe("ok");
    expect(status.dokploy.status).toBe("ok");
  });
});

describe("deploy_status: a name conflict between main and production", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(4),
      appliedUpTo: 3,
      prodExtraSql: "INSERT INTO paliad.applied_migrations VALUES (4, 'backups');",
    });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("→ degraded: the next deploy will crash-loop, with both names; a malformed health URL is that source's error", async () => {
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
deploy: { health_url: "not a url", cache_seconds: 0 }
`,
      },
      "config",
    );
    const c = await app.session("mai/dep/conflict");
    const s = structured<Status & { live: { status: string; error: string } }>(
      await c.call("deploy_status", {}),
    );
    expect(s.verdict).toBe("degraded");
    expect(s.production.data?.conflicts.map((x) => x.version)).toEqual([4]);
    expect(s.reasons.join(" ")).toContain(
      'the next deploy will crash-loop: version 4 is internal/db/migrations/004_create_t4.sql on main but "backups" in production',
    );
    expect(s.live.status).toBe("failed");
    expect(s.safe_to_merge.answer).toBe(false);
  });
});

describe("deploy_status answers are shared for a few seconds across servers", () => {
  let app: App;
  let server: LocalServer;
  beforeAll(async () => {
    server = await startServer(() => ({ status: 200, json: { git_sha: "feedface00", schema_version: 2 } }));
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
deploy: { health_url: "${server.url}/readyz", cache_seconds: 60 }
`,
      },
      "cached config",
    );
  });
  afterAll(async () => {
    await app.cleanup();
    await server.close();
  });

  it("many callers in different servers cause one request upstream", async () => {
    const sessions = await Promise.all(["a", "b", "c", "d"].map((w) => app.session(`mai/${w}/cache`)));
    const answers = await Promise.all(sessions.map((c) => c.call("deploy_status", {})));
    for (const a of answers) expect(structured<Status>(a).live.data?.sha).toBe("feedface00");
    expect(server.requests).toHaveLength(1);
    const again = await sessions[0]!.call("deploy_status", {});
    const cachedMs = structured<{ cached_ms: number | null }>(again).cached_ms;
    expect(cachedMs).not.toBeNull();
    expect(server.requests).toHaveLength(1);
    // The text says the answer is shared from earlier, how old it is, and how to ask now.
    const [, second] = textOf(again).split("\n");
    expect(second).toMatch(/^As of (less than 1|\d+) s ago \(a shared answer\); fresh: true to ask now\.$/);
    const fresh = await sessions[0]!.call("deploy_status", { fresh: true });
    expect(server.requests).toHaveLength(2);
    expect(structured<{ cached_ms: number | null }>(fresh).cached_ms).toBeNull();
    expect(textOf(fresh)).not.toContain("As of");
  });
});
