import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SourceError } from "../../../src/deploy/errors.js";
import { giteaCi } from "../../../src/deploy/gitea.js";
import {
  type LocalServer,
  type Reply,
  refusedUrl,
  type SeenRequest,
  startServer,
} from "../../helpers/local-server.js";

const SHA = "3f2a9c1d4e5b6a7980112233445566778899aabb";
const OTHER = "0000000000000000000000000000000000000000";
const TOKEN = "s3cr3t-gitea-token";
const BASE = "/api/v1/repos/acme/shop";
const options = { timeoutMs: 5_000 };

/** Gitea's CommitStatus: the entry's state is in `status`, not `state`. */
function status(state: string, context: string) {
  return {
    id: 1,
    status: state,
    target_url: `https://gitea.example/acme/shop/actions/runs/7`,
    description: `${context} ${state}`,
    url: "https://gitea.example/api/v1/repos/acme/shop/statuses/x",
    context,
    creator: null,
    created_at: "2025-01-02T03:04:05Z",
    updated_at: "2025-01-02T03:04:05Z",
  };
}

function combined(state: string, statuses: unknown[]) {
  return {
    state,
    sha: SHA,
    total_count: statuses.length,
    statuses,
    repository: null,
    commit_url: "",
    url: "",
  };
}

/** Gitea's ActionWorkflowRun. */
const workflowRun = {
  id: 41,
  url: "https://gitea.example/api/v1/repos/acme/shop/actions/runs/41",
  html_url: "https://gitea.example/acme/shop/actions/runs/7",
  display_title: "Add backups table",
  path: "ci.yml@refs/heads/main",
  event: "push",
  run_attempt: 1,
  run_number: 7,
  head_sha: SHA,
  head_branch: "main",
  status: "completed",
  conclusion: "success",
};

/** Gitea's ActionTask (older servers: /actions/tasks). */
function task(id: number, headSha: string, name: string) {
  return {
    id,
    name,
    head_branch: "main",
    head_sha: headSha,
    run_number: id,
    event: "push",
    display_title: "Add backups table",
    status: "success",
    workflow_id: "ci.yml",
    url: `https://gitea.example/acme/shop/actions/runs/${id}`,
    created_at: "2025-01-02T03:04:05Z",
    updated_at: "2025-01-02T03:04:05Z",
    run_started_at: "2025-01-02T03:04:05Z",
  };
}

let server: LocalServer;
let routes: Map<string, Reply>;
const notFound: Reply = {
  status: 404,
  json: { message: "Not Found", url: "https://gitea.example/api/swagger" },
};

beforeAll(async () => {
  server = await startServer((req: SeenRequest) => routes.get(req.url.pathname) ?? notFound);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  routes = new Map();
  server.requests.length = 0;
});

const cfg = () => ({ url: server.url, repo: "acme/shop", token: TOKEN });
const setStatus = (reply: Reply) => routes.set(`${BASE}/commits/${SHA}/status`, reply);
const setRuns = (reply: Reply) => routes.set(`${BASE}/actions/runs`, reply);
const setTasks = (reply: Reply) => routes.set(`${BASE}/actions/tasks`, reply);

describe("giteaCi against a local server speaking Gitea's commit-status JSON", () => {
  it("reports success with the statuses and the Actions runs for the sha", async () => {
    setStatus({
      status: 200,
      json: combined("success", [status("success", "ci/build"), status("success", "ci/test")]),
    });
    setRuns({ status: 200, json: { workflow_runs: [workflowRun], total_count: 1 } });
    const ci = await giteaCi(cfg(), SHA, options);
    expect(ci.state).toBe("success");
    expect(ci.sha).toBe(SHA);
    expect(ci.statuses).toEqual([
      {
        context: "ci/build",
        status: "success",
        description: "ci/build success",
        targetUrl: "https://gitea.example/acme/shop/actions/runs/7",
      },
      expect.objectContaining({ context: "ci/test", status: "success" }),
    ]);
    expect(ci.runsSource).toBe("actions/runs");
    expect(ci.runs).toEqual([
      {
        id: 41,
        runNumber: 7,
        name: "Add backups table",
        status: "completed",
        conclusion: "success",
        url: "https://gitea.example/acme/shop/actions/runs/7",
      },
    ]);
    for (const req of server.requests) expect(req.headers.authorization).toBe(`token ${TOKEN}`);
    const runsReq = server.requests.find((r) => r.url.pathname.endsWith("/actions/runs"));
    expect(runsReq?.url.searchParams.get("head_sha")).toBe(SHA);
  });

  it("reports failure and pending as Gitea combines them", async () => {
    setRuns(notFound);
    setStatus({
      status: 200,
      json: combined("failure", [status("success", "build"), status("failure", "test")]),
    });
    expect((await giteaCi(cfg(), SHA, options)).state).toBe("failure");
    setStatus({ status: 200, json: combined("pending", [status("pending", "build")]) });
    expect((await giteaCi(cfg(), SHA, options)).state).toBe("pending");
    setStatus({ status: 200, json: combined("error", [status("error", "build")]) });
    expect((await giteaCi(cfg(), SHA, options)).state).toBe("error");
  });

  it("an empty combined status is 'none', never success, whatever the top-level state says", async () => {
    setRuns(notFound);
    setStatus({ status: 200, json: combined("success", []) });
    const ci = await giteaCi(cfg(), SHA, options);
    expect(ci.state).toBe("none");
    expect(ci.statuses).toEqual([]);
    setStatus({ status: 200, json: { ...combined("pending", []), statuses: null } });
    expect((await giteaCi(cfg(), SHA, options)).state).toBe("none");
  });

  it("falls back to /actions/tasks filtered to the sha when /actions/runs answers 404", async () => {
    setStatus({ status: 200, json: combined("success", [status("success", "build")]) });
    setTasks({
      status: 200,
      json: {
        workflow_runs: [task(9, SHA, "build"), task(8, OTHER, "build"), task(7, SHA, "test")],
        total_count: 3,
      },
    });
    const ci = await giteaCi(cfg(), SHA, options);
    expect(ci.runsSource).toBe("actions/tasks");
    expect(ci.runs.map((r) => [r.id, r.name, r.status, r.conclusion])).toEqual([
      [9, "build", "success", null],
      [7, "test", "success", null],
    ]);
  });

  it("runs are 'unavailable', not an error, when both Actions endpoints answer 404", async () => {
    setStatus({ status: 200, json: combined("success", [status("success", "build")]) });
    const ci = await giteaCi(cfg(), SHA, options);
    expect(ci).toMatchObject({ state: "success", runs: [], runsSource: "unavailable" });
  });

  it("a 500 on the status endpoint is a SourceError naming gitea and the code", async () => {
    setStatus({ status: 500, json: { message: "internal error" } });
    const err = (await giteaCi(cfg(), SHA, options).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.source).toBe("gitea");
    expect(err.message).toMatch(/^gitea: server error .*HTTP 500/);
    expect(err.hint).toBeTruthy();
  });

  it("a refused token (401) says so without echoing the token", async () => {
    setStatus({ status: 401, json: { message: "token is required" } });
    const err = (await giteaCi(cfg(), SHA, options).catch((e: unknown) => e)) as SourceError;
    expect(err.message).toMatch(/^gitea: the token was refused \(HTTP 401\)/);
    expect(`${err.message} ${err.hint}`).not.toContain(TOKEN);
  });

  it("a 404 on the status endpoint means the repository or the commit is not found", async () => {
    const err = (await giteaCi(cfg(), SHA, options).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toMatch(/^gitea: repository acme\/shop or commit 3f2a9c1d4e not found \(HTTP 404\)/);
  });

  it("an unreachable server is a SourceError that does not wait for the timeout", async () => {
    const url = await refusedUrl();
    const err = (await giteaCi({ ...cfg(), url }, SHA, { timeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    )) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`gitea: connection refused (${url.slice("http://".length)})`);
    expect(err.hint).toContain(url);
  });

  it("port 1, which fetch refuses to dial, is a SourceError too", async () => {
    const err = await giteaCi({ ...cfg(), url: "http://127.0.0.1:1" }, SHA, { timeoutMs: 60_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toBe("gitea: port 1 is blocked by fetch (a reserved port)");
  });

  it("config problems are SourceErrors before any request", async () => {
    const attempts = [
      giteaCi({ url: server.url, repo: "acme/shop" }, SHA, options),
      giteaCi({ ...cfg(), token: "  " }, SHA, options),
      giteaCi({ ...cfg(), url: "not a url" }, SHA, options),
      giteaCi({ ...cfg(), url: "ftp://gitea.example" }, SHA, options),
      giteaCi({ ...cfg(), repo: "shop" }, SHA, options),
      giteaCi({ ...cfg(), repo: "acme/shop/extra" }, SHA, options),
    ];
    const errors = await Promise.all(
      attempts.map((p) =>
        p.then(
          () => null,
          (e: unknown) => e as SourceError,
        ),
      ),
    );
    for (const err of errors) expect(err).toBeInstanceOf(SourceError);
    expect(errors[0]?.message).toBe("gitea: deploy.gitea.token is not set");
    expect(errors[0]?.hint).toMatch(/GITEA_TOKEN/);
    expect(errors[2]?.message).toMatch(/^gitea: deploy\.gitea\.url is not a valid http\(s\) URL/);
    expect(errors[4]?.message).toMatch(/owner\/name/);
    expect(server.requests).toHaveLength(0);
  });

  it("accepts a url that already ends in /api/v1", async () => {
    setStatus({ status: 200, json: combined("success", [status("success", "build")]) });
    const ci = await giteaCi({ ...cfg(), url: `${server.url}/api/v1/` }, SHA, options);
    expect(ci.state).toBe("success");
  });
});
