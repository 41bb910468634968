import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { startDockerd, type TestDockerd } from "../helpers/dockerd.js";
import { type Connected, connect, structured } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

/**
 * deploy_status, check_deploy_config and doctor against a real Swarm: a private dockerd (see
 * test/helpers/dockerd.ts) runs three stacks deployed with `docker stack deploy`, with short health
 * checks and monitors so each update settles in seconds. The app image serves /readyz with busybox
 * httpd; its health check runs inside the container. The broken release prints what a failing
 * migration prints and exits 1.
 */

const HEALTH = `    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:8080/readyz"]
      interval: 1s
      timeout: 3s # generous: the machine may be busy with other tests
      retries: 3
      start_period: 1s
`;

/** The recommended block, durations shortened: health check, start-first, rollback. */
const recommended = (ports = "") => `version: "3.8"
services:
  web:
    image: app:v1
    stop_grace_period: 1s # busybox httpd as PID 1 ignores SIGTERM
${HEALTH}${ports}    deploy:
      replicas: 1
      update_config: { parallelism: 1, order: start-first, failure_action: rollback, monitor: 8s }
      rollback_config: { parallelism: 1, order: start-first, monitor: 8s }
      restart_policy: { condition: on-failure, delay: 1s, max_attempts: 3, window: 10s }
`;

/** The outage's block: no health check, stop-first, failure_action pause, restarts without bound. */
const OUTAGE = `version: "3.8"
services:
  web:
    image: app:v1
    stop_grace_period: 1s # busybox httpd as PID 1 ignores SIGTERM
    deploy:
      replicas: 1
      update_config: { parallelism: 1, order: stop-first, failure_action: pause, monitor: 5s }
      restart_policy: { condition: any, delay: 2s }
`;

const HOST_PORT = recommended(`    ports:
      - target: 8080
        published: 18080
        mode: host
`);

interface SwarmData {
  service: string;
  condition: string;
  summary: string;
  update: { state: string } | null;
  running: number;
  serving: string[];
  failures: { image: string; exitCode: number | null; lastLog: string | null }[];
}

interface Status {
  verdict: string;
  reasons: string[];
  swarm: { status: string; error: string | null; data: SwarmData | null };
}

let engine: TestDockerd;
let sandbox: GitSandbox;
const sessions: Connected[] = [];

beforeAll(async () => {
  engine = await startDockerd();
  await engine.importImage("app:v1", ["httpd", "-f", "-p", "8080", "-h", "/www"], {
    "www/readyz": "ready\n",
  });
  await engine.importImage("app:v2", ["sh", "-c", "echo 'migration 125 failed' >&2; exit 1"]);
  await engine.importImage("app:v1b", ["httpd", "-f", "-p", "8080", "-h", "/www"], {
    "www/readyz": "ready\n",
  });
  sandbox = await createGitSandbox({
    config: "migrations: { dir: db/migrations }\n",
    files: {
      "db/migrations/001_init.sql": "SELECT 1;\n",
      "stacks/app.yaml": recommended(),
      "stacks/outage.yaml": OUTAGE,
      "stacks/hp.yaml": HOST_PORT,
    },
  });
  await Promise.all(
    ["app", "outage", "hp"].map((stack) =>
      engine.docker(
        "stack",
        "deploy",
        "--resolve-image",
        "never",
        "-c",
        join(sandbox.seed, `stacks/${stack}.yaml`),
        stack,
      ),
    ),
  );
  // With a health check, a task counts as running once the check passed.
  for (const service of ["app_web", "hp_web"])
    await waitFor(`${service} healthy`, () => runningTask(service, "healthy"));
  await waitFor("outage_web running", () => runningTask("outage_web"));
}, 120_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sandbox?.cleanup();
  await engine?.stop();
}, 60_000);

/** Main's config pointing at `service` and its stack file. */
async function useService(service: string): Promise<string> {
  const stack = service.replace(/_web$/, "");
  await sandbox.commitToMain(
    {
      "mai-gate.yaml": `migrations: { dir: db/migrations }
git: { fetch_interval_seconds: 0 }
deploy:
  docker: ${engine.endpoint}
  service: ${service}
  compose: stacks/${stack}.yaml
  cache_seconds: 0
  timeout_ms: 5000
`,
    },
    `deploy settings for ${service}`,
  );
  return stack;
}

/** A session on a new branch, with main's config pointing at `service`. */
async function session(service: string): Promise<Connected> {
  const stack = await useService(service);
  const c = await connect({ cwd: await sandbox.worktree(`mai/${stack}/status-${Date.now()}`) });
  sessions.push(c);
  return c;
}

const status = async (c: Connected) => structured<Status>(await c.call("deploy_status", { fresh: true }));

/** The id of a running (and, when asked, healthy) container of `service`, or null. */
async function runningTask(service: string, health?: "healthy"): Promise<string | null> {
  const out = await engine.docker(
    "ps",
    "-q",
    "--filter",
    `label=com.docker.swarm.service.name=${service}`,
    "--filter",
    "status=running",
    ...(health ? ["--filter", `health=${health}`] : []),
  );
  return out.trim().split("\n")[0] || null;
}

/** Polls `probe` every 300 ms until it answers non-null, for at most `ms`. */
async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined>, ms = 45_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > until) throw new Error(`waited ${ms / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `docker service update` to another image, without waiting: the tests watch what follows. */
const updateImage = (service: string, image: string) =>
  engine.docker("service", "update", "--detach", "--no-resolve-image", "--image", image, service);

const updateState = async (service: string) =>
  (
    await engine.docker(
      "service",
      "inspect",
      "-f",
      "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
      service,
    )
  ).trim();

describe("a real Swarm: what deploy_status says after an update to a crash-looping release", () => {
  it("the recommended block rolls back, with the old task serving throughout", async () => {
    const old = (await runningTask("app_web", "healthy"))!;
    await updateImage("app_web", "app:v2");
    let samples = 0;
    await waitFor("the rollback", async () => {
      // The old container is running and healthy at every look, until the rollback completes.
      const healthy = await engine.docker("ps", "-q", "--filter", `id=${old}`, "--filter", "health=healthy");
      expect(healthy.trim()).toBe(old.slice(0, 12));
      samples += 1;
      return (await updateState("app_web")) === "rollback_completed" ? true : null;
    });
    expect(samples).toBeGreaterThan(3);
    const s = await status(await session("app_web"));
    expect(s.swarm.data).toMatchObject({ condition: "rolled_back", running: 1, serving: ["app:v1"] });
    expect(s.swarm.data!.summary).toBe(
      "update to app:v2 rolled back: new tasks exited 1 ('migration 125 failed'); app:v1 is serving",
    );
    expect(s.verdict).toBe("degraded");
    expect(s.reasons).toContain(`Swarm service app_web: ${s.swarm.data!.summary}`);
  });

  it("the outage's block pauses with no running task, and deploy_status says the site is down", async () => {
    await updateImage("outage_web", "app:v2");
    await waitFor("the paused update", async () =>
      (await updateState("outage_web")) === "paused" ? true : null,
    );
    const c = await session("outage_web");
    // A task of the crash-looping release is up for a few milliseconds at each restart: ask again then.
    const s = await waitFor("deploy_status to see no running task", async () => {
      const answer = await status(c);
      return answer.swarm.data?.running === 0 ? answer : null;
    });
    expect(s.swarm.data).toMatchObject({ condition: "down", update: { state: "paused" }, serving: [] });
    expect(s.swarm.data!.summary).toBe(
      "update to app:v2 paused with no running task: the site is down; new tasks exited 1 ('migration 125 failed')",
    );
    expect(s.verdict).toBe("down");
    expect(await runningTask("outage_web")).toBeNull();
  });
});

describe("a real Swarm: check_deploy_config reads the live service", () => {
  it("finds start-first with a host-mode port in the live spec, and the update really never completes", async () => {
    const c = await session("hp_web");
    type Check = {
      source: string;
      findings: { rule: string; file: string | null; fix: string }[];
      drift: { service: string; differences: { setting: string; file: string; live: string }[] } | null;
    };
    const r = structured<{ safe: boolean; checks: Check[] }>(await c.call("check_deploy_config", {}));
    expect(r.safe).toBe(false);
    const live = r.checks.find((x) => x.source === "swarm:hp_web")!;
    expect(live.findings.map((f) => f.rule)).toEqual(["start_first_host_port"]);
    expect(live.findings[0]!.fix).toContain("docker service update --publish-rm 8080");
    expect(live.drift).toEqual({ file: "stacks/hp.yaml", service: "web", differences: [] });
    expect(r.checks.find((x) => x.source === "stacks/hp.yaml")!.findings.map((f) => f.rule)).toEqual([
      "start_first_host_port",
    ]);

    const old = (await runningTask("hp_web"))!;
    await updateImage("hp_web", "app:v1b");
    const s = await waitFor("the update to be stuck", async () => {
      const answer = await status(c);
      return answer.swarm.data?.condition === "stuck" ? answer : null;
    });
    expect(s.swarm.data!.summary).toMatch(
      /^update to app:v1b is stuck: a new task cannot be placed \('no suitable node \(host-mode port already in use on 1 node\)'\); app:v1 is serving$/,
    );
    expect(s.verdict).toBe("degraded");
    expect(await runningTask("hp_web")).toBe(old);
  });

  it("reports drift when the live service was changed by hand, and judges the live value", async () => {
    await engine.docker(
      "service",
      "update",
      "--detach",
      "--no-resolve-image",
      "--update-failure-action",
      "pause",
      "app_web",
    );
    await waitFor("the new spec", async () =>
      (
        await engine.docker("service", "inspect", "-f", "{{.Spec.UpdateConfig.FailureAction}}", "app_web")
      ).trim() === "pause"
        ? true
        : null,
    );
    const c = await session("app_web");
    const r = structured<{
      verdict: string;
      checks: { source: string; findings: { rule: string }[]; drift: unknown }[];
    }>(await c.call("check_deploy_config", {}));
    const live = r.checks.find((x) => x.source === "swarm:app_web")!;
    expect(live.findings.map((f) => f.rule)).toEqual(["failure_action"]);
    expect(live.drift).toEqual({
      file: "stacks/app.yaml",
      service: "web",
      differences: [{ setting: "deploy.update_config.failure_action", file: "rollback", live: "pause" }],
    });
    expect(r.verdict).toContain(
      "swarm:app_web differs from stacks/app.yaml in deploy.update_config.failure_action",
    );
  });

  it("mai-gate doctor reaches the engine and names the service's state; a wrong socket is a fix", async () => {
    await useService("app_web");
    const doctor = async () => {
      const cwd = await sandbox.worktree(`mai/doc/tor-${Date.now()}`);
      const r = await execa(process.execPath, [CLI, "doctor", "--json"], { cwd, reject: false });
      return (
        JSON.parse(r.stdout) as { check: string; ok: boolean | null; detail: string; fix: string | null }[]
      ).find((x) => x.check === "docker engine")!;
    };
    const ok = await doctor();
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^Docker 20\.10\.\S+ \(API 1\.41\) at unix:\/\/.*; service app_web: /);
    await sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: db/migrations }\ndeploy: { docker: "unix://${engine.dir}/nope.sock", service: app_web }\n`,
      },
      "a wrong socket",
    );
    const bad = await doctor();
    expect(bad.ok).toBe(false);
    expect(bad.detail).toContain("no socket at unix://");
    expect(bad.fix).toContain("deploy.docker");
  });
});
