import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../../src/deploy/errors.js";
import { httpGet, MAX_BODY_BYTES, TransportError } from "../../../src/deploy/http.js";
import { type LocalServer, type Reply, startServer } from "../../helpers/local-server.js";

const big = "x".repeat(MAX_BODY_BYTES + 4096);
const routes = new Map<string, Reply>([
  ["/json", { status: 200, json: { ok: true } }],
  ["/json-as-text", { status: 200, text: '  {"looks": "json"}', type: "text/plain" }],
  ["/broken-json", { status: 200, text: "{nope", type: "application/json" }],
  ["/big", { status: 200, text: big }],
  ["/hang", "hang"],
]);

let server: LocalServer;
beforeAll(async () => {
  server = await startServer((req) => {
    if (req.url.pathname === "/moved") return { status: 302, text: "" };
    return routes.get(req.url.pathname) ?? { status: 404, text: "404 page not found" };
  });
});
afterAll(async () => {
  await server.close();
});

const options = { timeoutMs: 5_000 };

describe("httpGet against a local server", () => {
  it("parses JSON by content type or by its looks, and keeps text otherwise", async () => {
    expect((await httpGet("t", `${server.url}/json`, options)).json).toEqual({ ok: true });
    expect((await httpGet("t", `${server.url}/json-as-text`, options)).json).toEqual({ looks: "json" });
    const broken = await httpGet("t", `${server.url}/broken-json`, options);
    expect(broken).toMatchObject({ status: 200, ok: true, text: "{nope", json: undefined });
    const missing = await httpGet("t", `${server.url}/nowhere`, options);
    expect(missing).toMatchObject({ status: 404, ok: false, text: "404 page not found", json: undefined });
  });

  it("stops reading the body after 1 MB", async () => {
    const res = await httpGet("t", `${server.url}/big`, options);
    expect(res.text.length).toBe(MAX_BODY_BYTES);
  });

  it("does not follow redirects when asked not to", async () => {
    const res = await httpGet("t", `${server.url}/moved`, { ...options, redirect: "manual" });
    expect(res.status).toBe(302);
  });

  it("a timeout is a TransportError naming the source and the limit", async () => {
    const err = await httpGet("gitea", `${server.url}/hang`, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ kind: "timeout", message: "gitea: request timed out after 200 ms" });
  });

  it("the caller's signal cancels the request", async () => {
    const controller = new AbortController();
    const pending = httpGet("t", `${server.url}/hang`, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: "cancelled" });
  });

  it("an unresolvable host and a malformed URL are SourceErrors", async () => {
    const dns = await httpGet("t", "http://mai-gate-test.invalid/", options).catch((e: unknown) => e);
    expect(dns).toBeInstanceOf(TransportError);
    expect((dns as TransportError).kind).toMatch(/dns|timeout|network/);
    await expect(httpGet("t", "http//nope", options)).rejects.toBeInstanceOf(SourceError);
    await expect(httpGet("t", "https://user:hunter2@", options)).rejects.not.toThrow(/hunter2/);
  });
});
