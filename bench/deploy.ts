import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createGitSandbox } from "../src/sandbox/git-sandbox.js";
import { spawnClient } from "./spawn.js";
import { percentile, printTable } from "./stats.js";

/**
 * 20 callers — each its own mai-gate server process, as every worker has — asking deploy_status
 * at once, 10 times each, against local servers speaking Gitea's, Dokploy's and a health
 * endpoint's JSON (each answers after 20 ms). Counts the requests each upstream received.
 */
export async function benchDeploy(): Promise<void> {
  const counts: Record<string, number> = { gitea: 0, health: 0, dokploy: 0 };
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const kind = path.startsWith("/api/v1") ? "gitea" : path === "/readyz" ? "health" : "dokploy";
    counts[kind] = (counts[kind] ?? 0) + 1;
    const body =
      kind === "gitea"
        ? path.includes("/commits/")
          ? { state: "success", total_count: 1, statuses: [{ status: "success", context: "ci" }] }
          : { total_count: 0, workflow_runs: [] }
        : kind === "health"
          ? { git_sha: "0", schema_version: 1 }
          : [{ deploymentId: "d", status: "done", createdAt: "2026-11-25T10:00:00Z" }];
    setTimeout(
      () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)),
      20,
    );
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const sandbox = await createGitSandbox({
    config: {
      migrations: { dir: "db/migrations" },
      deploy: {
        gitea: { url, repo: "o/app", token: "t" },
        health_url: `${url}/readyz`,
        dokploy: { url, api_key: "k", application_id: "a" },
        cache_seconds: 5,
      },
    },
    files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("bench/deploy");
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        return spawnClient(cwd, { MAI_WORKER: `w${i}` });
      }),
    );
    const ping: number[] = [];
    for (const c of clients) {
      const t = performance.now();
      await c.ping();
      ping.push(performance.now() - t);
    }
    const times: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let k = 0; k < 10; k++) {
          const t = performance.now();
          await c.callTool({ name: "deploy_status", arguments: {} });
          times.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await Promise.all(clients.map((c) => c.close()));
    printTable(
      "deploy_status: 20 server processes × 10 calls at once, sources answering in 20 ms (ms)",
      ["round trip", "n", "p50", "p99"],
      [
        ["MCP ping (baseline)", ping.length, percentile(ping, 50), percentile(ping, 99)],
        ["deploy_status", times.length, percentile(times, 50), percentile(times, 99)],
      ],
    );
    printTable(
      `upstream requests for ${times.length} answers in ${seconds.toFixed(1)} s (cache 5 s)`,
      ["source", "requests"],
      Object.entries(counts).map(([k, v]) => [k, v]),
    );
  } finally {
    await sandbox.cleanup();
    http.close();
  }
}
