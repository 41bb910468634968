import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServer, startHttpServer } from "../../src/http/server.js";
import { TokenBook } from "../../src/http/tokens.js";
import { silentLogger } from "../../src/log.js";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { httpClient } from "../helpers/http.js";
import { textOf } from "../helpers/mcp.js";

const DIR = "db/migrations";
const HEAD = "head-token-0123456789abcdef";
const VIEWER = "viewer-token-0123456789abcdef";
const workerToken = (i: number) => `worker-token-${i}-0123456789abcdef`;

describe("serve --http: bearer tokens, roles, 50 concurrent clients, the status page", () => {
  let sandbox: GitSandbox;
  let server: HttpServer;
  const start = () =>
    startHttpServer({
      cwd: sandbox.host,
      port: 0,
      host: "127.0.0.1",
      logger: silentLogger(),
      env: {},
      tokens: TokenBook.of([
        { token: HEAD, worker: "head", role: "head" },
        { token: VIEWER, worker: "screen", role: "viewer" },
        ...Array.from({ length: 50 }, (_, i) => ({
          token: workerToken(i),
          worker: `w${i}`,
          role: "worker" as const,
        })),
      ]),
    });
  const stateFile = () => `${sandbox.host}/.git/mai-gate/state.db`;
  const leaseCount = async () => {
    const store = openSqliteStore(stateFile());
    const n = (await store.listLeases({ includeEnded: true, limit: 100_000 })).length;
    await store.close();
    return n;
  };

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: {
        migrations: { dir: DIR },
        suite: { pre_push: [{ name: "slow", run: "sleep 20" }] },
      },
      files: numberedMigrations(DIR, 10),
    });
    server = await start();
  });
  afterAll(async () => {
    await server.close();
    await sandbox.cleanup();
  });

  it("answers /healthz without a token, and refuses /mcp without one or with a wrong one", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const before = await leaseCount();
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const none = await fetch(`${server.url}/mcp`, { method: "POST", body, headers });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await fetch(`${server.url}/mcp`, {
      method: "POST",
      body,
      headers: { ...headers, authorization: "Bearer nope-nope-nope-nope" },
    });
    expect(wrong.status).toBe(401);
    const viewer = await fetch(`${server.url}/mcp`, {
      method: "POST",
      body,
      headers: { ...headers, authorization: `Bearer ${VIEWER}` },
    });
    expect(viewer.status).toBe(403);
    expect(await leaseCount()).toBe(before);
  });

  it("50 concurrent clients × 20 reservations on loopback: no duplicate", async () => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, i) => httpClient(server.url, workerToken(i))),
    );
    try {
      const versions = (
        await Promise.all(
          clients.map(async (c, i) => {
            const got: number[] = [];
            for (let k = 0; k < 20; k++) {
              const r = await c.call("reserve_migration_slot", { name: `c${i}_${k}` });
              if (r.isError) throw new Error(textOf(r));
              got.push(
                (r.structuredContent as { worker: string; leases: { version: number }[] }).leases[0]!.version,
              );
            }
            return got;
          }),
        )
      ).flat();
      expect(versions).toHaveLength(1000);
      expect(new Set(versions).size).toBe(1000);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 240_000);

  it("the caller is who the token says: a worker cannot release another's lease or act for another", async () => {
    const w1 = await httpClient(server.url, workerToken(1));
    const w2 = await httpClient(server.url, workerToken(2));
    try {
      const r = await w1.call("reserve_migration_slot", { name: "mine" });
      expect(r.structuredContent).toMatchObject({ worker: "w1" });
      const id = (r.structuredContent as { leases: { lease_id: string }[] }).leases[0]!.lease_id;
      const before = await leaseCount();
      const stolen = await w2.call("release_slot", { lease_id: id, reason: "taking it" });
      expect(stolen.isError).toBe(true);
      expect(textOf(stolen)).toContain("belongs to w1");
      const other = await w2.call("gate_status", { branch: "mai/w1/x" });
      expect(textOf(other)).toContain("a worker asks only about its own gate");
      const head = await httpClient(server.url, HEAD);
      const reserve = await head.call("reserve_migration_slot", { name: "x" });
      expect(textOf(reserve)).toContain('role "head" may not reserve');
      await head.close();
      expect(await leaseCount()).toBe(before);
    } finally {
      await Promise.all([w1.close(), w2.close()]);
    }
  });

  it("the status page, in headless Chromium, shows a lease made a moment before", async () => {
    const w = await httpClient(server.url, workerToken(7));
    const r = await w.call("reserve_migration_slot", { name: "shown_on_the_page" });
    const version = (r.structuredContent as { leases: { version: number }[] }).leases[0]!.version;
    await w.close();
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      const unauth = await page.goto(`${server.url}/`);
      expect(unauth?.status()).toBe(401);
      await page.goto(`${server.url}/?token=${VIEWER}`);
      const row = page.locator("#leases tr", { hasText: "shown_on_the_page" });
      await row.waitFor();
      expect(await row.textContent()).toContain(String(version));
      // Neither CI of main nor a live check is configured here: the page must not say healthy.
      expect(await page.locator("#verdict").textContent()).toBe("unknown");
      expect(await page.locator("body").textContent()).toContain(
        "cannot tell: deploy.gitea is not configured",
      );
      const out = resolve(import.meta.dirname, "../../.ci/out");
      await mkdir(out, { recursive: true });
      await page.screenshot({ path: `${out}/status-page.png` });
    } finally {
      await browser.close();
    }
  });

  it("the status page's cookie (from /?token=) opens the page and never authorizes /mcp", async () => {
    const login = await fetch(`${server.url}/?token=${HEAD}`, { redirect: "manual" });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toBe(`mai_gate_token=${HEAD}`);
    const page = await fetch(`${server.url}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const before = await leaseCount();
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "list_slot_leases", arguments: {} },
    });
    const mcp = await fetch(`${server.url}/mcp`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", cookie },
    });
    expect(mcp.status).toBe(401);
    expect(await leaseCount()).toBe(before);
  });

  it("shutting down lets an in-flight call finish, records a running suite job as interrupted, and a restart keeps every lease", async () => {
    const w = await httpClient(server.url, workerToken(9));
    const started = await w.call("run_pre_push_suite", { wait_seconds: 0.2 });
    const job = started.structuredContent as { job_id: string; state: string };
    expect(job.state).toBe("running");
    const inFlight = w.call("suite_status", { job_id: job.job_id, wait_seconds: 1 });
    const leasesBefore = await leaseCount();
    await new Promise((r) => setTimeout(r, 100));
    await server.close();
    const answered = await inFlight;
    expect(answered.isError).toBeFalsy();
    await w.close().catch(() => undefined);
    const store = openSqliteStore(stateFile());
    const [record] = await store.suiteRuns({ id: job.job_id, limit: 1 });
    await store.close();
    expect(record?.state).toBe("interrupted");

    server = await start();
    expect(await leaseCount()).toBe(leasesBefore);
    const head = await httpClient(server.url, HEAD);
    const listed = await head.call("list_slot_leases", { limit: 5000 });
    expect((listed.structuredContent as { leases: unknown[] }).leases.length).toBeGreaterThan(1000);
    await head.close();
  });
});
