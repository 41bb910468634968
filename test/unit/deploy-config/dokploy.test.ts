import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SourceError } from "../../../src/deploy/errors.js";
import { checkDokploySwarm, fetchDokployApplication } from "../../../src/deploy-config/dokploy.js";
import { type LocalServer, type Reply, refusedUrl, startServer } from "../../helpers/local-server.js";

const KEY = "dokploy-key-do-not-print";
const APP = "app_Xy12-z";
const S = 1_000_000_000; // one second in nanoseconds

/** A row of Dokploy's `application` table as application.one returns it (Swarm fields in nanoseconds). */
function application(over: Record<string, unknown> = {}) {
  return {
    applicationId: APP,
    name: "paliad",
    appName: "paliad-app-x1y2z3",
    description: null,
    env: "DATABASE_URL=postgres://…",
    buildArgs: null,
    memoryReservation: null,
    memoryLimit: null,
    cpuReservation: null,
    cpuLimit: null,
    title: null,
    enabled: null,
    subtitle: null,
    command: null,
    args: null,
    sourceType: "docker",
    dockerImage: "registry.example.com/paliad/app:abc123",
    healthCheckSwarm: {
      Test: ["CMD", "curl", "-fsS", "http://localhost:8080/readyz"],
      Interval: 10 * S,
      Timeout: 3 * S,
      StartPeriod: 30 * S,
      Retries: 3,
    },
    restartPolicySwarm: { Condition: "on-failure", Delay: 10 * S, MaxAttempts: 3, Window: 120 * S },
    placementSwarm: null,
    updateConfigSwarm: {
      Parallelism: 1,
      Delay: 10 * S,
      FailureAction: "rollback",
      Monitor: 90 * S,
      MaxFailureRatio: 0,
      Order: "start-first",
    },
    rollbackConfigSwarm: { Parallelism: 1, Order: "start-first", Monitor: 30 * S },
    modeSwarm: null,
    labelsSwarm: null,
    networkSwarm: null,
    stopGracePeriodSwarm: null,
    replicas: 1,
    applicationStatus: "done",
    buildType: "dockerfile",
    createdAt: "2025-03-01T10:00:00.000Z",
    environmentId: "env_1",
    serverId: null,
    domains: [{ domainId: "d1", host: "app.example.com", port: 8080, https: true, path: "/" }],
    ports: [],
    mounts: [],
    ...over,
  };
}

let server: LocalServer;
let reply: Reply;
beforeAll(async () => {
  server = await startServer((req) =>
    req.url.pathname === "/api/application.one" ? reply : { status: 404, json: { message: "Not found" } },
  );
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const cfg = () => ({ url: server.url, apiKey: KEY, applicationId: APP });

describe("Dokploy Swarm settings against a local server speaking Dokploy's application JSON", () => {
  it("fetches application.one with x-api-key and passes the recommended settings", async () => {
    reply = { status: 200, json: application() };
    const app = await fetchDokployApplication(cfg(), 5_000);
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.url.searchParams.get("applicationId")).toBe(APP);
    expect(req.headers["x-api-key"]).toBe(KEY);
    const check = checkDokploySwarm(app, APP);
    expect(check).toEqual({
      source: `dokploy:${APP}`,
      services: ["paliad-app-x1y2z3"],
      findings: [],
      verdict: "a failed deploy keeps the old container serving",
    });
  });

  it("reads durations in nanoseconds: a 5 s monitor is shorter than 30 s + 10 s × 3", async () => {
    reply = {
      status: 200,
      json: application({
        updateConfigSwarm: {
          Parallelism: 1,
          FailureAction: "rollback",
          Monitor: 5 * S,
          Order: "start-first",
        },
      }),
    };
    const check = checkDokploySwarm(await fetchDokployApplication(cfg(), 5_000), APP);
    expect(check.findings.map((f) => f.rule)).toEqual(["monitor_too_short"]);
    const f = check.findings[0]!;
    expect(f).toMatchObject({ file: `dokploy:${APP}`, line: null, defaultAssumed: false });
    expect(f.detail).toContain("updateConfigSwarm.Monitor is 5000000000 ns");
    expect(f.detail).toContain("the 60s the health check needs");
    expect(f.consequence).toContain("after 5s");
    expect(JSON.parse(f.fix)).toEqual({
      Parallelism: 1,
      Delay: 10 * S,
      FailureAction: "rollback",
      Monitor: 90 * S,
      MaxFailureRatio: 0,
      Order: "start-first",
    });
  });

  it("applies the defaults of null settings, Dokploy's own first", async () => {
    reply = {
      status: 200,
      json: application({
        healthCheckSwarm: null,
        updateConfigSwarm: null,
        rollbackConfigSwarm: null,
        restartPolicySwarm: null,
        command: "/app -migrate serve",
      }),
    };
    const check = checkDokploySwarm(await fetchDokployApplication(cfg(), 5_000), APP);
    expect(check.findings.map((f) => f.rule)).toEqual([
      "no_healthcheck",
      "failure_action",
      "monitor_too_short",
      "no_rollback_config",
      "migrations_in_entrypoint",
      "restart_unbounded",
    ]);
    for (const f of check.findings) expect(f.line).toBeNull();
    const byRule = new Map(check.findings.map((f) => [f.rule, f]));
    expect(byRule.get("no_healthcheck")).toMatchObject({ defaultAssumed: true });
    expect(JSON.parse(byRule.get("no_healthcheck")!.fix)).toMatchObject({
      Test: ["CMD", "curl", "-fsS", "http://localhost:8080/readyz"],
      StartPeriod: 30 * S,
    });
    expect(byRule.get("failure_action")!.detail).toContain(
      "Dokploy sends only { Parallelism: 1, Order: start-first }",
    );
    expect(byRule.get("failure_action")!.detail).toContain("pause");
    expect(byRule.get("monitor_too_short")!.detail).toContain("5s");
    expect(byRule.get("restart_unbounded")!.detail).toContain("restartPolicySwarm is null");
    expect(byRule.get("migrations_in_entrypoint")!.fix).toContain('Run Command: "/app serve"');
    expect(JSON.parse(byRule.get("restart_unbounded")!.fix)).toEqual({
      Condition: "on-failure",
      Delay: 10 * S,
      MaxAttempts: 3,
      Window: 120 * S,
    });
  });

  it("a missing API key is a SourceError before any request", async () => {
    await expect(fetchDokployApplication({ ...cfg(), apiKey: " " }, 5_000)).rejects.toBeInstanceOf(
      SourceError,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("a refused key is a SourceError that does not print the key", async () => {
    reply = { status: 401, json: { message: "Unauthorized" } };
    const err = await fetchDokployApplication(cfg(), 5_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toContain("HTTP 401");
    expect((err as SourceError).message).not.toContain(KEY);
  });

  it("an unreachable Dokploy is a SourceError", async () => {
    const url = await refusedUrl();
    const err = await fetchDokployApplication({ url, apiKey: KEY, applicationId: APP }, 5_000).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).source).toBe("dokploy");
    expect((err as SourceError).message).toContain("connection refused");
  });
});
