import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { latestDeployment } from "../../../src/deploy/dokploy.js";
import { SourceError } from "../../../src/deploy/errors.js";
import { type LocalServer, type Reply, startServer } from "../../helpers/local-server.js";

const KEY = "dokploy-key-do-not-print";
const APP = "app_Xy12-z";
const options = { timeoutMs: 5_000 };

/** A row of Dokploy's `deployment` table as deployment.all returns it. */
function deployment(id: string, createdAt: string, over: Record<string, unknown> = {}) {
  return {
    deploymentId: id,
    title: `Deploy ${id}`,
    description: "Commit: add backups table",
    status: "done",
    logPath: `/etc/dokploy/logs/shop/${id}.log`,
    pid: null,
    applicationId: APP,
    composeId: null,
    serverId: null,
    isPreviewDeployment: false,
    previewDeploymentId: null,
    createdAt,
    startedAt: createdAt,
    finishedAt: createdAt.replace(":00.000Z", ":45.000Z"),
    errorMessage: null,
    scheduleId: null,
    backupId: null,
    rollbackId: null,
    volumeBackupId: null,
    ...over,
  };
}

let server: LocalServer;
let reply: Reply;
beforeAll(async () => {
  server = await startServer((req) =>
    req.url.pathname === "/api/deployment.all" ? reply : { status: 404, json: { message: "Not found" } },
  );
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const cfg = () => ({ url: server.url, apiKey: KEY, applicationId: APP });

describe("latestDeployment against a local server speaking Dokploy's deployment.all JSON", () => {
  it("returns the newest of several by createdAt and sends x-api-key", async () => {
    reply = {
      status: 200,
      json: [
        deployment("d1", "2025-03-01T10:00:00.000Z"),
        deployment("d3", "2025-03-03T10:00:00.000Z"),
        deployment("d2", "2025-03-02T10:00:00.000Z"),
      ],
    };
    const latest = await latestDeployment(cfg(), options);
    expect(latest).toEqual({
      id: "d3",
      title: "Deploy d3",
      status: "done",
      createdAt: "2025-03-03T10:00:00.000Z",
      finishedAt: "2025-03-03T10:00:45.000Z",
      error: null,
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers["x-api-key"]).toBe(KEY);
    expect(server.requests[0]?.url.searchParams.get("applicationId")).toBe(APP);
  });

  it("reports an error status with Dokploy's errorMessage; a missing finishedAt is null", async () => {
    const failed = deployment("d9", "2025-03-04T10:00:00.000Z", {
      status: "error",
      errorMessage: "build failed",
    });
    const { finishedAt: _dropped, ...running } = deployment("d8", "2025-03-03T10:00:00.000Z", {
      status: "running",
    });
    reply = { status: 200, json: [failed, running] };
    const latest = await latestDeployment(cfg(), options);
    expect(latest).toMatchObject({ id: "d9", status: "error", error: "build failed" });
    reply = { status: 200, json: [running] };
    expect(await latestDeployment(cfg(), options)).toMatchObject({ status: "running", finishedAt: null });
  });

  it("no deployments yet is null", async () => {
    reply = { status: 200, json: [] };
    expect(await latestDeployment(cfg(), options)).toBeNull();
  });

  it("accepts a url that ends in /api", async () => {
    reply = { status: 200, json: [] };
    expect(await latestDeployment({ ...cfg(), url: `${server.url}/api/` }, options)).toBeNull();
    expect(server.requests[0]?.url.pathname).toBe("/api/deployment.all");
  });

  it("a refused key (401) is a SourceError that does not print the key", async () => {
    reply = { status: 401, json: { message: "Unauthorized", code: "UNAUTHORIZED" } };
    const err = (await latestDeployment(cfg(), options).catch((e: unknown) => e)) as SourceError;
    expect(err).toBeInstanceOf(SourceError);
    expect(err.source).toBe("dokploy");
    expect(err.message).toMatch(/^dokploy: the API key was refused \(HTTP 401\)/);
    expect(`${err.message} ${err.hint}`).not.toContain(KEY);
  });

  it("a 500 and a non-list answer are SourceErrors", async () => {
    reply = { status: 500, json: { message: "boom" } };
    await expect(latestDeployment(cfg(), options)).rejects.toThrow(/^dokploy: server error \(HTTP 500\)/);
    reply = { status: 200, text: "<html>login</html>", type: "text/html" };
    await expect(latestDeployment(cfg(), options)).rejects.toThrow(/did not answer a list/);
  });

  it("a missing key or a malformed url is a SourceError before any request", async () => {
    await expect(latestDeployment({ url: server.url, applicationId: APP }, options)).rejects.toThrow(
      "dokploy: deploy.dokploy.api_key is not set",
    );
    await expect(latestDeployment({ ...cfg(), url: "dokploy.local" }, options)).rejects.toThrow(
      /^dokploy: deploy\.dokploy\.url is not a valid http\(s\) URL/,
    );
    await expect(latestDeployment({ ...cfg(), applicationId: " " }, options)).rejects.toBeInstanceOf(
      SourceError,
    );
    expect(server.requests).toHaveLength(0);
  });
});
