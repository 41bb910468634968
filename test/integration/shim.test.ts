import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isShim, realProgram } from "../../src/gate/shim.js";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { REPORT_SPELLINGS } from "../helpers/spellings.js";
import { CLI } from "../helpers/stdio.js";

const config = `migrations: { dir: internal/db/migrations, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
scratch: { dsn: env:SCRATCH_DSN }
git: { fetch_interval_seconds: 0 }
suite: { pre_push: [{ name: ok, run: "true" }] }
gate: { reporter: ["mai", "report", "completed", "{summary}"], require: [suite] }
`;

/** A fake real `mai`: it appends its arguments to $MARKER. */
const FAKE_MAI = `#!/bin/sh\nprintf '%s\\n' "$*" >> "$MARKER"\n`;
const FAILING_MAI = "#!/bin/sh\necho from the real mai\nexit 7\n";

describe("the PATH shim, in real bash", () => {
  let app: App;
  let fakeBin: string;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
    await app.sandbox.commitToMain({ "mai-gate.yaml": config }, "config");
    fakeBin = await program(join(app.sandbox.dir, "fakebin"), FAKE_MAI);
  });
  afterAll(async () => {
    await app.cleanup();
  });

  /** A worktree of a worker with one commit of its own and the shim installed. */
  const workerWithShim = async (branch: string) => {
    const session = await app.session(branch);
    const root = (await session.workspace.repo()).root;
    await writeFile(join(root, "feature.txt"), "work\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "work");
    const installed = await mgate(root, ["shim", "install"]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    return {
      session,
      root,
      shimDir: join(root, ".mai-gate", "bin"),
      marker: join(root, "..", `${branch.replaceAll("/", "_")}.marker`),
    };
  };

  const mgate = (cwd: string, args: string[]) =>
    execa(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...app.env, MAI_GATE_LOG: "error" },
      reject: false,
    });

  const bash = (cwd: string, script: string, env: { PATH: string; MARKER: string }) =>
    execa("bash", ["-c", script], {
      cwd,
      env: { ...app.env, ...env },
      reject: false,
      all: true,
      timeout: 120_000,
    });

  it("every spelling runs the real program when there is no shim (the control)", async () => {
    const root = await app.sandbox.worktree("mai/shi/control");
    const marker = join(root, "..", "control.marker");
    const PATH = `${fakeBin}:${process.env.PATH}`;
    for (const spelling of REPORT_SPELLINGS) {
      const before = existsSync(marker) ? (await readFile(marker, "utf8")).split("\n").length : 1;
      await bash(root, spelling, { PATH, MARKER: marker });
      const after = (await readFile(marker, "utf8").catch(() => "")).split("\n").length;
      expect(after, spelling).toBeGreaterThan(before);
    }
  }, 120_000);

  it("refuses every spelling while the gate is red: the real program never runs", async () => {
    const w = await workerWithShim("mai/shi/red");
    const PATH = `${w.shimDir}:${fakeBin}:${process.env.PATH}`;
    const results = await pool(REPORT_SPELLINGS, 4, async (spelling) => ({
      spelling,
      r: await bash(w.root, spelling, { PATH, MARKER: w.marker }),
    }));
    for (const { spelling, r } of results) expect(r.all, spelling).toContain("is refused");
    expect(existsSync(w.marker)).toBe(false);
    expect(results.find((x) => x.spelling === "mai report completed x")?.r.all).toContain("suite");
    expect(results.find((x) => x.spelling === "mai report completed x")?.r.exitCode).toBe(1);

    const status = await bash(w.root, "mai status", { PATH, MARKER: w.marker });
    expect(status.exitCode).toBe(0);
    expect(await readFile(w.marker, "utf8")).toBe("status\n");
  }, 600_000);

  it("runs the real program on a green gate, stdio and exit code passed through", async () => {
    const w = await workerWithShim("mai/shi/green");
    await w.session.call("run_pre_push_suite", {});
    const PATH = `${w.shimDir}:${fakeBin}:${process.env.PATH}`;
    const spellings = [
      "mai report completed one",
      "if true; then mai report completed two; fi",
      "echo three | xargs mai report completed",
      `bash -c "mai report completed four"`,
      "a=mai; $a report completed five",
    ];
    for (const spelling of spellings) {
      const r = await bash(w.root, spelling, { PATH, MARKER: w.marker });
      expect(r.exitCode, r.all).toBe(0);
    }
    const lines = (await readFile(w.marker, "utf8")).trim().split("\n");
    expect(lines).toEqual(["one", "two", "three", "four", "five"].map((n) => `report completed ${n}`));
    const failing = await bash(w.root, "mai report completed x; echo rc=$?", {
      PATH: `${w.shimDir}:${await program(join(app.sandbox.dir, "failbin"), FAILING_MAI)}:${process.env.PATH}`,
      MARKER: w.marker,
    });
    expect(failing.all).toContain("from the real mai");
    expect(failing.all).toContain("rc=7");
  }, 120_000);

  it("fails closed outside a repository, says when there is no real program, and installs idempotently", async () => {
    const w = await workerWithShim("mai/shi/misc");
    const PATH = `${w.shimDir}:${fakeBin}:${process.env.PATH}`;
    const away = await bash(w.root, "cd /tmp && mai report completed x", { PATH, MARKER: w.marker });
    expect(away.exitCode).toBe(1);
    expect(away.all).toContain("cannot judge the completion gate");
    expect(existsSync(w.marker)).toBe(false);
    expect((await bash(w.root, "cd /tmp && mai status", { PATH, MARKER: w.marker })).exitCode).toBe(0);
    expect(await readFile(w.marker, "utf8")).toBe("status\n");

    const alone = await bash(w.root, "mai status", { PATH: `${w.shimDir}:/usr/bin:/bin`, MARKER: w.marker });
    expect(alone.exitCode).toBe(127);
    expect(alone.all).toContain("no real `mai` on PATH past");
    expect(realProgram("mai", { PATH: `${w.shimDir}:${fakeBin}` })).toBe(join(fakeBin, "mai"));
    expect(isShim(join(w.shimDir, "mai"))).toBe(true);

    const first = await readFile(join(w.shimDir, "mai"), "utf8");
    const again = await mgate(w.root, ["shim", "install"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await readFile(join(w.shimDir, "mai"), "utf8")).toBe(first);
    const exclude = await readFile(join(app.sandbox.host, ".git", "info", "exclude"), "utf8");
    expect(exclude.split("\n").filter((l) => l === "/.mai-gate/")).toHaveLength(1);
    expect(await app.sandbox.git(w.root, "status", "--porcelain")).toBe("");
  }, 120_000);

  it("puts the shim first on a Claude Code session's PATH through CLAUDE_ENV_FILE", async () => {
    const root = await app.sandbox.worktree("mai/shi/env");
    const envFile = join(root, "..", "claude-env.sh");
    const run = () =>
      execa(process.execPath, [CLI, "shim", "install"], {
        cwd: root,
        env: { ...app.env, CLAUDE_ENV_FILE: envFile },
      });
    await run();
    await run();
    const text = await readFile(envFile, "utf8");
    expect(text).toBe(`export PATH='${join(root, ".mai-gate", "bin")}':"$PATH"\n`);
    const sourced = await execa("bash", ["-c", `. '${envFile}'; command -v mai`], {
      env: { PATH: "/usr/bin:/bin" },
    });
    expect(sourced.stdout).toBe(join(root, ".mai-gate", "bin", "mai"));
  });
});

/** A directory holding an executable `mai` with this text. */
async function program(dir: string, text: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "mai"), text);
  await chmod(join(dir, "mai"), 0o755);
  return dir;
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}
