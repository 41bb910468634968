import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { execa } from "execa";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServer, startHttpServer } from "../../src/http/server.js";
import { TokenBook } from "../../src/http/tokens.js";
import { silentLogger } from "../../src/log.js";
import { createDesk, type Desk } from "../helpers/desk.js";
import { httpClient } from "../helpers/http.js";
import { textOf } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

const HEAD = "head-token-desk-0123456789abcdef";
const OUT = resolve(import.meta.dirname, "../../.ci/out");

describe("the head's desk on the status page, in headless Chromium, and over HTTP", () => {
  let desk: Desk;
  let server: HttpServer;
  let browser: Browser;

  beforeAll(async () => {
    desk = await createDesk();
    server = await startHttpServer({
      cwd: desk.app.sandbox.host,
      port: 0,
      host: "127.0.0.1",
      logger: silentLogger(),
      env: desk.app.env,
      tokens: TokenBook.of([{ token: HEAD, worker: "head", role: "head" }]),
    });
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
    await mkdir(OUT, { recursive: true });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await desk?.cleanup();
  });

  const open = async (width: number, height: number): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(`${server.url}/?token=${HEAD}`);
    await page.locator("#version-map").waitFor();
    return page;
  };
  const cell = (page: Page, source: string, version: number) =>
    page.locator(`#version-map tr[data-source="${source}"] td[data-version="${version}"]`);

  it("shows the version map, each worker beside it, and one Next for the head", async () => {
    const page = await open(1280, 900);
    try {
      expect(await page.locator("#next").textContent()).toContain(
        "Next: rename main's 019 or repair production's history: the next deploy will crash-loop",
      );
      // Production and main name 19 differently: both red.
      expect(await cell(page, "production", 19).textContent()).toBe("backups");
      expect(await cell(page, "production", 19).getAttribute("class")).toBe("bad");
      expect(await cell(page, "main", 19).textContent()).toBe("create_t19");
      expect(await cell(page, "main", 19).getAttribute("class")).toBe("bad");
      // cara's file on bob's leased version is red; bob's own file and lease are not.
      const v = desk.caraVersion;
      expect(await cell(page, "mai/cara/report", v).textContent()).toBe("cara_report");
      expect(await cell(page, "mai/cara/report", v).getAttribute("class")).toBe("bad");
      expect(await cell(page, "mai/bob/pair", v).getAttribute("class")).toBeNull();
      expect(await cell(page, "open leases", v).textContent()).toBe("bob: split_orders_1");
      expect(await cell(page, "open leases", v).getAttribute("class")).toBeNull();
      expect(await cell(page, "open leases", desk.annLease.version).textContent()).toBe(
        "ann: add_orders_index",
      );
      // One row per branch, local and origin copies merged.
      expect(await page.locator('#version-map tr[data-source="mai/cara/report"]').count()).toBe(1);

      const card = (w: string) => page.locator(`#workers .worker[data-worker="${w}"]`);
      expect(await card("ann").textContent()).toContain("still at tip");
      expect(await card("ann").textContent()).toContain("gate green");
      expect(await card("bob").textContent()).toContain("stale: unpushed_leases");
      expect(await card("bob").textContent()).toContain("never pushed");
      expect(await card("bob").textContent()).toMatch(/split_orders_1 \(active, 2 d\)/);
      expect(await card("cara").textContent()).toContain(
        `move: cara: version ${v} is bob's lease — reserve and rename`,
      );
      expect(await card("dan").textContent()).toContain("stale: silent");
      expect(await card("dan").textContent()).toContain("last commit 4 d ago");
      expect(await page.locator("#smoke").textContent()).toContain("Smoke: never run");
      expect(await page.locator("#leases th", { hasText: "Age" }).count()).toBe(1);
      await page.screenshot({ path: `${OUT}/status-page-desk.png`, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("reads on a phone: no sideways scroll of the page, the Next line and the cards fit the screen", async () => {
    const page = await open(390, 844);
    try {
      const right = async (selector: string) => {
        const box = await page.locator(selector).first().boundingBox();
        return box ? box.x + box.width : Number.POSITIVE_INFINITY;
      };
      const widths = {
        page: (await page.evaluate("document.documentElement.scrollWidth")) as number,
        next: await right("#next"),
        card: await right("#workers .worker"),
        map: await right(".scroll"),
      };
      expect(widths.page).toBeLessThanOrEqual(390);
      expect(widths.next).toBeLessThanOrEqual(390);
      expect(widths.card).toBeLessThanOrEqual(390);
      // The map scrolls inside its own box, with the source column kept in view.
      expect(widths.map).toBeLessThanOrEqual(390);
      expect(await page.locator("#next").isVisible()).toBe(true);
      await page.screenshot({ path: `${OUT}/status-page-desk-phone.png`, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("shows the head completions over MCP on HTTP, and mai-gate review prints the same review", async () => {
    const head = await httpClient(server.url, HEAD);
    try {
      const r = await head.call("review_workers", { worker: "ann" });
      const ann = (
        r.structuredContent as { workers: { branches: { completion: { sha: string; status: string } }[] }[] }
      ).workers[0]!;
      expect(ann.branches[0]!.completion).toMatchObject({ sha: desk.annSha, status: "still at tip" });
      expect(textOf(r)).toContain("still at tip");
    } finally {
      await head.close();
    }
    const cli = await execa(process.execPath, [CLI, "review", "--json"], {
      cwd: desk.app.sandbox.host,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...desk.app.env,
        MAI_ROLE: "head",
        MAI_GATE_LOG: "error",
      },
      extendEnv: false,
      reject: false,
    });
    expect(cli.exitCode, cli.stderr).toBe(0);
    const printed = JSON.parse(cli.stdout) as { workers: { worker: string; stale: { rule: string }[] }[] };
    expect(printed.workers.map((w) => [w.worker, w.stale.map((f) => f.rule)])).toEqual([
      ["ann", []],
      ["bob", ["unpushed_leases"]],
      ["cara", []],
      ["dan", ["silent"]],
    ]);
  });
});
