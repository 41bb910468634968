import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../../src/deploy/errors.js";
import { checkHealth } from "../../../src/deploy/health.js";
import { resolvePointer } from "../../../src/deploy/json.js";
import { type LocalServer, type Reply, refusedUrl, startServer } from "../../helpers/local-server.js";

const routes = new Map<string, Reply>([
  ["/healthz", { status: 200, json: { status: "ok", git_sha: "abc1234", schema_version: 42 } }],
  ["/nested", { status: 200, json: { version: { sha: "def5678" }, db: { version: "20250102_backups" } } }],
  ["/custom", { status: 200, json: { "build/info": { "commit~id": "feedbee" }, migrations: [{ v: 17 }] } }],
  ["/plain", { status: 200, text: "OK" }],
  // Traefik's answer when no router matches or the service has no healthy server.
  ["/traefik", { status: 404, text: "404 page not found\n" }],
  ["/maintenance", { status: 503, text: "Service Unavailable" }],
  ["/hang", "hang"],
]);

let server: LocalServer;
beforeAll(async () => {
  server = await startServer((req) => routes.get(req.url.pathname) ?? { status: 404, text: "no such page" });
});
afterAll(async () => {
  await server.close();
});

const options = { timeoutMs: 5_000 };

describe("checkHealth against a local server speaking a health endpoint's JSON", () => {
  it("is up and reads the sha and the schema version under the default pointers", async () => {
    const h = await checkHealth({ url: `${server.url}/healthz` }, options);
    expect(h).toMatchObject({ up: true, status: 200, sha: "abc1234", schemaVersion: "42", reason: null });
    expect(h.latencyMs).toEqual(expect.any(Number));
  });

  it("tries the default pointers in order, nested ones included", async () => {
    const h = await checkHealth({ url: `${server.url}/nested` }, options);
    expect(h).toMatchObject({ up: true, sha: "def5678", schemaVersion: "20250102_backups" });
  });

  it("uses only the configured pointers, with ~1 and ~0 escapes", async () => {
    const h = await checkHealth(
      {
        url: `${server.url}/custom`,
        shaPointer: "/build~1info/commit~0id",
        schemaPointer: "/migrations/0/v",
      },
      options,
    );
    expect(h).toMatchObject({ up: true, sha: "feedbee", schemaVersion: "17" });
    const missing = await checkHealth({ url: `${server.url}/healthz`, shaPointer: "/nope" }, options);
    expect(missing.sha).toBeNull();
  });

  it("is up without a sha when the body is not JSON", async () => {
    const h = await checkHealth({ url: `${server.url}/plain` }, options);
    expect(h).toMatchObject({ up: true, status: 200, sha: null, schemaVersion: null, reason: null });
  });

  it("Traefik's plain-text 404 is down: no healthy backend", async () => {
    const h = await checkHealth({ url: `${server.url}/traefik` }, options);
    expect(h).toMatchObject({ up: false, status: 404 });
    expect(h.reason).toBe("HTTP 404 from the proxy: no healthy backend (Traefik's default 404)");
    const other = await checkHealth({ url: `${server.url}/elsewhere` }, options);
    expect(other).toMatchObject({ up: false, status: 404 });
    expect(other.reason).toMatch(/^HTTP 404/);
  });

  it("a 503 is down", async () => {
    const h = await checkHealth({ url: `${server.url}/maintenance` }, options);
    expect(h).toMatchObject({ up: false, status: 503, reason: "HTTP 503" });
  });

  it("connection refused is down, not an error", async () => {
    const h = await checkHealth({ url: `${await refusedUrl()}/healthz` }, { timeoutMs: 60_000 });
    expect(h).toMatchObject({ up: false, status: null, latencyMs: null, sha: null });
    expect(h.reason).toMatch(/^connection refused/);
  });

  it("a server that never answers is down: timed out", async () => {
    const h = await checkHealth({ url: `${server.url}/hang` }, { timeoutMs: 300 });
    expect(h).toMatchObject({ up: false, status: null });
    expect(h.reason).toMatch(/timed out after 300 ms/);
  });

  it("the caller cancelling is not a finding: it throws", async () => {
    const controller = new AbortController();
    const pending = checkHealth(
      { url: `${server.url}/hang` },
      { timeoutMs: 60_000, signal: controller.signal },
    );
    controller.abort();
    await expect(pending).rejects.toThrow(/health: request cancelled/);
  });

  it("only a malformed URL throws", async () => {
    await expect(checkHealth({ url: "localhost:8080/healthz" }, options)).rejects.toBeInstanceOf(SourceError);
    await expect(checkHealth({ url: "" }, options)).rejects.toThrow(
      /^health: deploy\.health_url is not a valid/,
    );
  });
});

describe("resolvePointer (RFC 6901)", () => {
  const doc = { a: { "b/c": 1, "m~n": 2, "~1": 3 }, list: [10, 20], "": "root-empty" };
  it("walks keys and array indexes, unescaping ~1 then ~0", () => {
    expect(resolvePointer(doc, "")).toBe(doc);
    expect(resolvePointer(doc, "/a/b~1c")).toBe(1);
    expect(resolvePointer(doc, "/a/m~0n")).toBe(2);
    expect(resolvePointer(doc, "/a/~01")).toBe(3);
    expect(resolvePointer(doc, "/list/1")).toBe(20);
    expect(resolvePointer(doc, "/")).toBe("root-empty");
  });
  it("is undefined for missing paths and malformed pointers", () => {
    expect(resolvePointer(doc, "/list/01")).toBeUndefined();
    expect(resolvePointer(doc, "/list/5")).toBeUndefined();
    expect(resolvePointer(doc, "/a/~2")).toBeUndefined();
    expect(resolvePointer(doc, "a")).toBeUndefined();
    expect(resolvePointer(doc, "/toString")).toBeUndefined();
  });
});
