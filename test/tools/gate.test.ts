import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

interface Gate {
  green: boolean;
  unmet: string[];
  conditions: { kind: string; file: string | null; passed: boolean | null; detail: string }[];
}

const configText = (
  reportOut: string,
) => `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
scratch: { dsn: env:SCRATCH_DSN }
git: { fetch_interval_seconds: 0 }
suite:
  pre_push:
    - { name: build, run: "true" }
gate:
  reporter: ["node", "-e", "require('fs').writeFileSync('${reportOut}', JSON.stringify(process.argv.slice(1)))", "{summary}", "{worker}", "{branch}", "{sha}"]
`;

describe("the completion gate, end to end through a real MCP client", () => {
  let app: App;
  let c: Connected;
  let root: string;
  let reportOut: string;
  const git = (...args: string[]) => app.sandbox.git(root, ...args);
  const commitAll = async (message: string) => {
    await git("add", "-A");
    await git("commit", "-qm", message);
  };
  const gate = async () => structured<Gate>(await c.call("gate_status", {}));
  const unmetKinds = (g: Gate) => g.conditions.filter((x) => x.passed === false).map((x) => x.kind);

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    reportOut = join(app.sandbox.dir, "reported.json");
    await app.sandbox.commitToMain({ "mai-gate.yaml": configText(reportOut) }, "gate config");
    c = await app.session("mai/ann/feature");
    root = (await c.workspace.repo()).root;
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("reserve → write → commit → suite → dry run → report_completed is accepted and the reporter runs", async () => {
    const lease = structured<{ leases: { paths: string[]; files: string[] }[] }>(
      await c.call("reserve_migration_slot", { name: "add_note_index" }),
    ).leases[0]!;
    await writeFile(lease.paths[0]!, "CREATE INDEX t1_note ON t1 (note);\n");
    await commitAll("add an index");
    expect(unmetKinds(await gate()).sort()).toEqual(["dry_run", "suite"]);
    const refused = await c.call("report_completed", { summary: "added an index" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("REFUSED: nothing was reported");
    await expect(readFile(reportOut, "utf8")).rejects.toThrow();

    expect(structured<{ state: string }>(await c.call("run_pre_push_suite", {})).state).toBe("passed");
    expect(structured<{ passed: boolean }>(await c.call("dry_run_migration", {})).passed).toBe(true);
    expect((await gate()).green).toBe(true);

    const accepted = structured<{ accepted: boolean; reported: boolean; completion_id: string }>(
      await c.call("report_completed", { summary: "Added an index on t1.note; suite and dry run pass." }),
    );
    expect(accepted).toMatchObject({ accepted: true, reported: true });
    const head = (await git("rev-parse", "HEAD")).trim();
    expect(JSON.parse(await readFile(reportOut, "utf8"))).toEqual([
      "Added an index on t1.note; suite and dry run pass.",
      "ann",
      "mai/ann/feature",
      head,
    ]);
    const again = structured<{ already_reported: boolean }>(
      await c.call("report_completed", { summary: "again" }),
    );
    expect(again.already_reported).toBe(true);
  });

  it("refuses a stale HEAD: one more commit needs a new suite run", async () => {
    await writeFile(join(root, "NOTES.md"), "one more thing\n");
    await commitAll("one more commit");
    const g = await gate();
    expect(g.green).toBe(false);
    expect(unmetKinds(g)).toEqual(["suite"]);
    await c.call("run_pre_push_suite", {});
    expect((await gate()).green).toBe(true);
  });

  it("refuses a dirty worktree", async () => {
    await writeFile(join(root, "scratch.txt"), "wip\n");
    expect(unmetKinds(await gate())).toContain("clean_tree");
    await rm(join(root, "scratch.txt"));
    expect((await gate()).green).toBe(true);
  });

  it("refuses when a dry run passed only for an older content of the file", async () => {
    const file = join(root, MIG_DIR, "006_add_note_index.sql");
    await writeFile(file, "CREATE INDEX t1_note ON t1 (note);\nCREATE INDEX t2_note ON t2 (note);\n");
    await commitAll("more indexes");
    await c.call("run_pre_push_suite", {});
    const g = await gate();
    expect(unmetKinds(g)).toEqual(["dry_run"]);
    expect(g.conditions.find((x) => x.kind === "dry_run")?.detail).toContain("older content");
    await c.call("dry_run_migration", {});
    expect((await gate()).green).toBe(true);
  });

  it("refuses a migration file without a lease", async () => {
    await writeFile(join(root, MIG_DIR, "007_sneaky.sql"), "CREATE TABLE sneaky (id int);\n");
    await commitAll("a migration without a lease");
    await c.call("run_pre_push_suite", {});
    await c.call("dry_run_migration", { files: [`${MIG_DIR}/007_sneaky.sql`] });
    const g = await gate();
    expect(g.conditions.find((x) => x.kind === "lease" && x.file?.endsWith("007_sneaky.sql"))).toMatchObject({
      passed: false,
      detail: "no lease holds version 7",
    });
    await git("rm", "-q", `${MIG_DIR}/007_sneaky.sql`);
    await commitAll("drop it");
  });

  it("refuses an edit to an already-applied migration", async () => {
    await writeFile(
      join(root, MIG_DIR, "002_create_t2.sql"),
      "CREATE TABLE t2 (id bigint PRIMARY KEY, note text, extra int);\n",
    );
    await commitAll("edit an applied migration");
    await c.call("run_pre_push_suite", {});
    const g = await gate();
    expect(unmetKinds(g)).toEqual(["no_edits"]);
    expect(g.unmet[0]).toContain(`${MIG_DIR}/002_create_t2.sql modified`);
    const refused = await c.call("report_completed", { summary: "x" });
    expect(refused.isError).toBe(true);
  });

  it("bad input: a 100 KB summary, another worker's id, a detached HEAD", async () => {
    expect(textOf(await c.call("report_completed", { summary: "x".repeat(100 * 1024) }))).toContain(
      "at most 8000",
    );
    expect(textOf(await c.call("report_completed", { summary: "x", worker: "bob" }))).toContain(
      'worker "bob" is not the caller',
    );
    expect(textOf(await c.call("gate_status", { branch: "mai/bob/other" }))).toContain(
      "a worker asks only about its own gate",
    );
    await git("checkout", "-q", "--detach");
    expect(textOf(await c.call("report_completed", { summary: "x" }))).toContain("HEAD is not on a branch");
    await git("checkout", "-q", "mai/ann/feature");
  });
});

describe("the reporter fails or hangs", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it.each([
    ['["sh", "-c", "echo boom >&2; exit 3"]', "failed"],
    ['["sleep", "30"]', "timed_out"],
  ])("reporter %s → the completion is recorded but not reported", async (argv, status) => {
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": `migrations: { dir: ${MIG_DIR}, history_table: paliad.applied_migrations }
prod: { dsn: env:PROD_RO_DSN }
suite: { pre_push: [{ name: ok, run: "true" }] }
gate: { reporter: ${argv}, reporter_timeout_seconds: 1 }
`,
      },
      "reporter",
    );
    const c = await app.session(`mai/rep/${status}`);
    await c.call("run_pre_push_suite", {});
    const r = await c.call("report_completed", { summary: "done" });
    const out = structured<{ accepted: boolean; reported: boolean; reporter: { status: string } }>(r);
    expect(out).toMatchObject({ accepted: true, reported: false, reporter: { status } });
    expect(textOf(r)).toContain("it is NOT reported");
    const store = await c.workspace.store(null);
    const [completion] = await store.completions({ worker: "rep", limit: 1 });
    expect(completion?.reported).toBe(false);
  });
});
