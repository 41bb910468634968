import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { CLI } from "../helpers/stdio.js";

const config = `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
scratch: { dsn: env:SCRATCH_DSN }
git: { fetch_interval_seconds: 0 }
suite: { pre_push: [{ name: ok, run: "true" }] }
gate: { reporter: ["mai", "report", "completed", "{summary}"] }
`;

describe("Claude Code hooks, through the built CLI", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    await app.sandbox.commitToMain({ "mai-gate.yaml": config }, "config");
  });
  afterAll(async () => {
    await app.cleanup();
  });

  const hook = async (event: string, input: Record<string, unknown>) => {
    const r = await execa(process.execPath, [CLI, "hook", event], {
      input: JSON.stringify(input),
      env: { ...app.env, MAI_GATE_LOG: "error" },
    });
    expect(r.exitCode).toBe(0);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : null;
  };

  it("denies the reporter's Bash command while the gate is red and allows it when green", async () => {
    const c = await app.session("mai/hoo/k");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "feature.txt"), "work\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "work");
    await app.sandbox.git(root, "push", "-q", "origin", "HEAD");
    const bash = (command: string) => ({
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command },
      cwd: root,
    });

    const denied = await hook("pre-tool-use", bash('cd . && mai report completed "all done"'));
    expect(denied).toMatchObject({
      hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny" },
    });
    expect(JSON.stringify(denied)).toContain("suite");
    expect(await hook("pre-tool-use", bash("git status"))).toBeNull();
    expect(
      await hook("pre-tool-use", { tool_name: "Read", tool_input: { file_path: "x" }, cwd: root }),
    ).toBeNull();

    await c.call("run_pre_push_suite", {});
    expect(await hook("pre-tool-use", bash('mai report completed "all done"'))).toBeNull();
  });

  it("reads the command with a shell parser: spellings denied on red, allowed on green", async () => {
    const c = await app.session("mai/par/se");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "feature.txt"), "parsed work\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "work");
    await app.sandbox.git(root, "push", "-q", "origin", "HEAD");
    const bash = (command: string) => ({ tool_name: "Bash", tool_input: { command }, cwd: root });
    const spellings = [
      "{ mai report completed x; }",
      "m'a'i report completed x",
      "echo x | xargs mai report completed",
      `sh -c 'eval "mai report completed x"'`,
      "a=mai; $a report completed x",
    ];
    const unparsable = "mai report completed 'x";
    for (const command of [...spellings, unparsable]) {
      const answer = await hook("pre-tool-use", bash(command));
      expect(answer, command).toMatchObject({ hookSpecificOutput: { permissionDecision: "deny" } });
    }
    for (const command of [
      'echo "mai report completed"',
      "mai status",
      "grep mai report.txt",
      "cat mai.txt",
    ]) {
      expect(await hook("pre-tool-use", bash(command)), command).toBeNull();
    }
    await c.call("run_pre_push_suite", {});
    for (const command of spellings.slice(0, 2)) expect(await hook("pre-tool-use", bash(command))).toBeNull();
  }, 180_000);

  it("the fast path remembers main's reporter by main's commits: a new reporter on main is denied at once", async () => {
    const c = await app.session("mai/fas/t");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, "fast.txt"), "work\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "work");
    await app.sandbox.git(root, "push", "-q", "origin", "HEAD");
    const bash = (command: string) => ({ tool_name: "Bash", tool_input: { command }, cwd: root });
    expect(await hook("pre-tool-use", bash("ls -la"))).toBeNull();
    const common = (await c.workspace.repo()).commonDir;
    const remembered = JSON.parse(await readFile(join(common, "mai-gate", "hook-reporter.json"), "utf8"));
    expect(remembered.program).toBe("mai");
    expect(await hook("pre-tool-use", bash("mai report completed x"))).toMatchObject({
      hookSpecificOutput: { permissionDecision: "deny" },
    });

    // main now reports through another program: the remembered "mai" must not let "notify" through.
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": config.replace('["mai", "report", "completed", "{summary}"]', '["notify", "done"]'),
      },
      "another reporter",
    );
    await app.sandbox.git(root, "fetch", "-q", "origin");
    try {
      expect(await hook("pre-tool-use", bash("notify done"))).toMatchObject({
        hookSpecificOutput: { permissionDecision: "deny" },
      });
      expect(await hook("pre-tool-use", bash("ls -la"))).toBeNull();
      const now = JSON.parse(await readFile(join(common, "mai-gate", "hook-reporter.json"), "utf8"));
      expect(now.program).toBe("notify");
    } finally {
      await app.sandbox.commitToMain({ "mai-gate.yaml": config }, "config back");
      await app.sandbox.git(root, "fetch", "-q", "origin");
    }
  });

  it("outside a repository, fails closed for a command naming report, by its parsed words", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "mai-gate-norepo-"));
    try {
      const bash = (command: string) => ({ tool_name: "Bash", tool_input: { command }, cwd });
      const denied = await hook("pre-tool-use", bash('mai rep""ort completed x'));
      expect(denied).toMatchObject({ hookSpecificOutput: { permissionDecision: "deny" } });
      expect(JSON.stringify(denied)).toContain("could not judge the gate");
      expect(await hook("pre-tool-use", bash("ls -la"))).toBeNull();
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 60_000);

  it("blocks stopping once while the branch's gate is red, and lets go when stop_hook_active is set", async () => {
    const c = await app.session("mai/sto/p");
    const root = (await c.workspace.repo()).root;
    expect(await hook("stop", { hook_event_name: "Stop", stop_hook_active: false, cwd: root })).toBeNull();
    await writeFile(join(root, "wip.txt"), "x\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "wip");
    const blocked = await hook("stop", { hook_event_name: "Stop", stop_hook_active: false, cwd: root });
    expect(blocked).toMatchObject({ decision: "block" });
    expect(String(blocked?.reason)).toContain("RED");
    expect(await hook("stop", { hook_event_name: "Stop", stop_hook_active: true, cwd: root })).toBeNull();
    await c.call("run_pre_push_suite", {});
    const unpushed = await hook("stop", { hook_event_name: "Stop", stop_hook_active: false, cwd: root });
    expect(String(unpushed?.reason)).toContain("pushed: not pushed");
    await app.sandbox.git(root, "push", "-q", "origin", "HEAD");
    expect(await hook("stop", { hook_event_name: "Stop", stop_hook_active: false, cwd: root })).toBeNull();
  });
});

describe("mai-gate check in CI", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({
      migrations: mainMigrations(122, {
        1: ["create_rules", "CREATE TABLE rules (id bigint PRIMARY KEY, is_mandatory boolean);\n"],
        91: ["drop_rule_flags", "ALTER TABLE rules DROP COLUMN is_mandatory;\n"],
      }),
      appliedUpTo: 122,
      prodExtraSql: "INSERT INTO paliad.applied_migrations VALUES (123, 'backups');",
    });
    await app.sandbox.commitToMain({ "mai-gate.yaml": config }, "config");
  });
  afterAll(async () => {
    await app.cleanup();
  });

  const check = async (branch: string, files: Record<string, string>, ...args: string[]) => {
    const cwd = await app.sandbox.worktree(branch);
    for (const [path, text] of Object.entries(files)) await writeFile(join(cwd, path), text);
    await app.sandbox.git(cwd, "add", "-A");
    await app.sandbox.git(cwd, "commit", "-qm", "branch work", "--allow-empty");
    return {
      dir: cwd,
      ...(await execa(process.execPath, [CLI, "check", ...args], {
        cwd,
        env: { ...app.env, MAI_GATE_LOG: "error" },
        reject: false,
      })),
    };
  };

  it("the first outage: 123_other.sql against production's 123 = backups → exit 1, annotated", async () => {
    const r = await check(
      "ci/outage-one",
      { [`${MIG_DIR}/123_other.sql`]: "SELECT 1;\n" },
      "--format",
      "github",
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(
      `::error file=${MIG_DIR}/123_other.sql,line=1,title=mai-gate collision::[production] production applied 123 as "backups": this file would crash-loop the app`,
    );
  });

  it("the second outage: 125 uses a column 091 dropped → exit 1, annotated on the line, explained", async () => {
    const r = await check(
      "ci/outage-two",
      { [`${MIG_DIR}/125_use_flags.sql`]: "SELECT 1;\nUPDATE rules SET is_mandatory = true;\n" },
      "--format",
      "github",
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`::error file=${MIG_DIR}/125_use_flags.sql,line=2,title=mai-gate dry_run::\\[42703\\]`),
    );
    expect(r.stdout).toContain("091_drop_rule_flags.sql");
  });

  it("a clean branch exits 0, and --junit writes JUnit XML", async () => {
    const r = await check(
      "ci/clean",
      { [`${MIG_DIR}/124_add_note.sql`]: "ALTER TABLE t2 ADD COLUMN extra int;\n" },
      "--junit",
      "report.xml",
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("mai-gate check: PASSED");
    const xml = await readFile(join(r.dir, "report.xml"), "utf8");
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(xml) as {
      testsuites: Record<string, unknown>;
    };
    expect(parsed.testsuites["@_failures"]).toBe("0");
    expect(JSON.stringify(parsed.testsuites)).toContain(`${MIG_DIR}/124_add_note.sql`);
  });

  it("exits 3 when it cannot run (a broken config)", async () => {
    const cwd = await app.sandbox.worktree("ci/broken");
    const r = await execa(process.execPath, [CLI, "check", "--config", join(cwd, "nope.yaml")], {
      cwd,
      reject: false,
    });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain("could not run");
  });
});
