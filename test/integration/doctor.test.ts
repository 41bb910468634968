import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { CLI } from "../helpers/stdio.js";

describe("mai-gate doctor and status, through the built CLI", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
scratch: { dsn: env:SCRATCH_DSN }
deploy:
  gitea: { url: "http://127.0.0.1:9", repo: owner/app }
  health_url: "http://127.0.0.1:9/readyz"
  timeout_ms: 500
`,
      },
      "doctor config",
    );
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("says what works (git, production, scratch, pg_dump) and what to fix (Gitea without a token, a dead health URL)", async () => {
    const cwd = await app.sandbox.worktree("mai/doc/tor");
    const r = await execa(process.execPath, [CLI, "doctor", "--json"], { cwd, env: app.env, reject: false });
    expect(r.exitCode).toBe(1);
    const checks = JSON.parse(r.stdout) as {
      check: string;
      ok: boolean | null;
      detail: string;
      fix: string | null;
    }[];
    const by = (name: string) => checks.find((c) => c.check === name)!;
    expect(by("git remote").ok).toBe(true);
    expect(by("production")).toMatchObject({ ok: true });
    expect(by("production").detail).toContain("3 applied");
    expect(by("scratch server").ok).toBe(true);
    expect(by("pg_dump").ok).toBe(true);
    expect(by("gitea")).toMatchObject({ ok: false });
    expect(by("gitea").detail).toContain("token");
    expect(by("health URL")).toMatchObject({ ok: false });
    expect(by("dokploy").ok).toBeNull();
    expect(by("docker engine").ok).toBeNull();
  });

  it("status prints the verdict and exits 1 when the site is down", async () => {
    const cwd = await app.sandbox.worktree("mai/sta/tus");
    const r = await execa(process.execPath, [CLI, "status"], { cwd, env: app.env, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Production is DOWN");
  });
});
