import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";
import { SCRATCH_ADMIN } from "../helpers/pg.js";

/**
 * Evidence is bound to the committed content: what a worker can change outside a commit (index
 * flags, ignored files, a subset dry run, an old pass) never turns the gate green.
 */
interface Gate {
  green: boolean;
  conditions: { kind: string; passed: boolean | null; detail: string }[];
}

const suiteConfig = (
  reportOut: string,
) => `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
scratch: { dsn: env:SCRATCH_DSN }
git: { fetch_interval_seconds: 0 }
suite: { pre_push: [{ name: test, run: "sh test.sh" }] }
gate:
  reporter: ["node", "-e", "require('fs').writeFileSync('${reportOut}', 'reported')", "{summary}"]
`;

describe("evidence is bound to the committed content", () => {
  let app: App;
  let reportOut: string;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    reportOut = join(app.sandbox.dir, "reported.txt");
    await app.sandbox.commitToMain(
      { "mai-gate.yaml": suiteConfig(reportOut), "test.sh": "exit 0\n" },
      "suite",
    );
  });
  afterAll(async () => {
    await app.cleanup();
  });

  async function worker(branch: string) {
    const c = await app.session(branch);
    const root = (await c.workspace.repo()).root;
    const git = (...args: string[]) => app.sandbox.git(root, ...args);
    const commit = async (files: Record<string, string>, message: string) => {
      for (const [path, text] of Object.entries(files)) await writeFile(join(root, path), text);
      await git("add", "-A");
      await git("commit", "-qm", message);
    };
    const push = () => git("push", "-q", "origin", "HEAD");
    const gate = async () => structured<Gate>(await c.call("gate_status", {}));
    return { c, root, git, commit, push, gate };
  }

  const failing = (g: Gate) => g.conditions.filter((x) => x.passed === false).map((x) => x.kind);

  it("skip-worktree: a committed failing test.sh with a passing copy on disk stays red and cannot be reported", async () => {
    const w = await worker("mai/ann/skip");
    await w.commit({ "test.sh": "echo committed test fails; exit 1\n" }, "a failing test");
    await w.push();
    await w.git("update-index", "--skip-worktree", "test.sh");
    await writeFile(join(w.root, "test.sh"), "exit 0\n");
    expect((await w.git("status", "--porcelain")).trim()).toBe("");
    const suite = structured<{ state: string }>(await w.c.call("run_pre_push_suite", {}));
    expect(suite.state).toBe("failed");
    const g = await w.gate();
    expect(g.green).toBe(false);
    expect(failing(g)).toEqual(["clean_tree", "suite"]);
    expect(g.conditions.find((x) => x.kind === "clean_tree")?.detail).toContain("test.sh (skip-worktree)");
    const refused = await w.c.call("report_completed", { summary: "done" });
    expect(refused.isError).toBe(true);
    await expect(readFile(reportOut, "utf8")).rejects.toThrow();
  });

  it("assume-unchanged hides a change from git status: the gate still sees it", async () => {
    const w = await worker("mai/ann/assume");
    await w.git("update-index", "--assume-unchanged", "test.sh");
    await writeFile(join(w.root, "test.sh"), "exit 3\n");
    const g = await w.gate();
    expect(g.conditions.find((x) => x.kind === "clean_tree")).toMatchObject({ passed: false });
    expect(g.conditions.find((x) => x.kind === "clean_tree")?.detail).toContain("test.sh (assume-unchanged)");
  });

  it("an ignored file (info/exclude) that would make the suite pass is not part of the run", async () => {
    const w = await worker("mai/ann/ignored");
    await w.commit(
      { "test.sh": "if [ -f local-pass.sh ]; then sh local-pass.sh; else exit 1; fi\n" },
      "test",
    );
    await w.push();
    const exclude = join((await w.c.workspace.repo()).commonDir, "info", "exclude");
    await appendFile(exclude, "\nlocal-pass.sh\n");
    await writeFile(join(w.root, "local-pass.sh"), "exit 0\n");
    expect((await w.git("status", "--porcelain")).trim()).toBe("");
    const suite = structured<{ state: string; checkout: { kind: string } }>(
      await w.c.call("run_pre_push_suite", {}),
    );
    expect(suite).toMatchObject({ state: "failed", checkout: { kind: "clean" } });
    expect(failing(await w.gate())).toEqual(["suite"]);
  });

  it("a step's share: path is linked into the clean checkout and listed in the record", async () => {
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": suiteConfig(reportOut).replace(
          '{ name: test, run: "sh test.sh" }',
          '{ name: test, run: "test -f cache/dep.txt", share: [cache] }',
        ),
      },
      "a shared cache",
    );
    const w = await worker("mai/ann/share");
    const exclude = join((await w.c.workspace.repo()).commonDir, "info", "exclude");
    await appendFile(exclude, "\n/cache/\n");
    await mkdir(join(w.root, "cache"));
    await writeFile(join(w.root, "cache", "dep.txt"), "dependency\n");
    const suite = structured<{ state: string; checkout: { shared: string[] } }>(
      await w.c.call("run_pre_push_suite", {}),
    );
    expect(suite).toMatchObject({ state: "passed", checkout: { shared: ["cache"] } });
    await app.sandbox.commitToMain({ "mai-gate.yaml": suiteConfig(reportOut) }, "back to the plain suite");
  });
});

describe("dry-run evidence is the whole set, and the latest run decides", () => {
  let app: App;
  let c: Connected;
  let root: string;
  const flagRole = `maigate_test_flag_${Date.now().toString(36)}`;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    c = await app.session("mai/ann/set");
    root = (await c.workspace.repo()).root;
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${flagRole}`);
    await admin.end();
    await app.cleanup();
  });
  const gate = async () => structured<Gate>(await c.call("gate_status", {}));
  const dryRunCondition = async () => (await gate()).conditions.find((x) => x.kind === "dry_run")!;
  const commitAll = async (message: string) => {
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", message);
  };

  it("two files that each pass alone but fail together: subset passes do not count", async () => {
    const leases = structured<{ leases: { files: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "dup", count: 2 }),
    ).leases;
    const [a, b] = leases.map((l) => l.files[0]!);
    for (const f of [a!, b!]) await writeFile(join(root, f), "CREATE TABLE dup (id int);\n");
    await commitAll("two migrations");
    expect(structured<{ passed: boolean }>(await c.call("dry_run_migration", { files: [a] })).passed).toBe(
      true,
    );
    expect(structured<{ passed: boolean }>(await c.call("dry_run_migration", { files: [b] })).passed).toBe(
      true,
    );
    const subset = await dryRunCondition();
    expect(subset.passed).toBe(false);
    expect(subset.detail).toContain("not exactly the branch's 2 new file(s)");
    const together = await c.call("dry_run_migration", {});
    expect(structured<{ passed: boolean }>(together).passed).toBe(false);
    expect(textOf(together)).toContain("already exists");
    expect((await dryRunCondition()).detail).toMatch(
      /^the latest dry run of these 2 new file\(s\) \(D\w+\) failed at/,
    );
    await app.sandbox.git(root, "rm", "-q", b!);
    await commitAll("drop the duplicate");
  });

  it("a later failing run of the same content on the same baseline voids the earlier pass", async () => {
    const lease = structured<{ leases: { files: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "flagged" }),
    ).leases[0]!;
    const guard = `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${flagRole}') THEN RAISE EXCEPTION 'flag role exists'; END IF; END $$;\n`;
    await writeFile(join(root, lease.files[0]!), `${guard}CREATE TABLE flagged (id int);\n`);
    await commitAll("a guarded migration");
    expect(structured<{ passed: boolean }>(await c.call("dry_run_migration", {})).passed).toBe(true);
    expect((await dryRunCondition()).passed).toBe(true);
    const admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await admin.connect();
    await admin.query(`CREATE ROLE ${flagRole}`);
    await admin.end();
    expect(structured<{ passed: boolean }>(await c.call("dry_run_migration", {})).passed).toBe(false);
    const voided = await dryRunCondition();
    expect(voided.passed).toBe(false);
    expect(voided.detail).toContain("failed at");
  });
});
