import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import {
  gateConfigText,
  greenMigration,
  reporterRuns,
  type WorkerSession,
  workerSession,
} from "../helpers/completion.js";
import { structured, textOf } from "../helpers/mcp.js";

interface Gate {
  green: boolean;
  unmet: string[];
  conditions: { kind: string; file: string | null; passed: boolean | null; detail: string }[];
}

/**
 * Each case is a worker of its own (its own worktree, branch and id) in one shared repository and
 * state: a case runs alone (`it.only`) exactly as it runs among the others.
 */
describe("the completion gate, end to end through a real MCP client", () => {
  let app: App;
  let reportLog: string;
  const gate = async (w: WorkerSession) => structured<Gate>(await w.c.call("gate_status", {}));
  const unmetKinds = (g: Gate) => g.conditions.filter((x) => x.passed === false).map((x) => x.kind);

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(5), appliedUpTo: 5 });
    reportLog = join(app.sandbox.dir, "reported.jsonl");
    await app.sandbox.commitToMain({ "mai-gate.yaml": gateConfigText(reportLog) }, "gate config");
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("reserve → write → commit → suite → dry run → report_completed is accepted and the reporter runs", async () => {
    const w = await workerSession(app, "mai/ann/feature");
    const lease = structured<{ leases: { files: string[] }[] }>(
      await w.c.call("reserve_migration_slot", { name: "add_note_index" }),
    ).leases[0]!;
    await w.commit({ [lease.files[0]!]: "CREATE INDEX t1_note ON t1 (note);\n" }, "add an index");
    await w.push();
    expect(unmetKinds(await gate(w)).sort()).toEqual(["dry_run", "suite"]);
    const refused = await w.c.call("report_completed", { summary: "added an index" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("REFUSED: nothing was reported");
    expect((await reporterRuns(reportLog)).filter((r) => r[1] === "ann")).toEqual([]);

    expect(structured<{ state: string }>(await w.c.call("run_pre_push_suite", {})).state).toBe("passed");
    expect(structured<{ passed: boolean }>(await w.c.call("dry_run_migration", {})).passed).toBe(true);
    expect((await gate(w)).green).toBe(true);

    const accepted = structured<{ accepted: boolean; reported: boolean; completion_id: string }>(
      await w.c.call("report_completed", { summary: "Added an index on t1.note; suite and dry run pass." }),
    );
    expect(accepted).toMatchObject({ accepted: true, reported: true });
    const head = (await w.git("rev-parse", "HEAD")).trim();
    expect((await reporterRuns(reportLog)).filter((r) => r[1] === "ann")).toEqual([
      ["Added an index on t1.note; suite and dry run pass.", "ann", "mai/ann/feature", head],
    ]);
    const again = structured<{ already_reported: boolean }>(
      await w.c.call("report_completed", { summary: "again" }),
    );
    expect(again.already_reported).toBe(true);
  });

  it("refuses a stale HEAD: one more commit needs a new suite run", async () => {
    const w = await workerSession(app, "mai/ben/stale");
    await greenMigration(w, "stale_index", "CREATE INDEX t1_stale ON t1 (note);\n");
    await w.commit({ "NOTES.md": "one more thing\n" }, "one more commit");
    expect(unmetKinds(await gate(w))).toEqual(["suite", "pushed"]);
    await w.push();
    const g = await gate(w);
    expect(g.green).toBe(false);
    expect(unmetKinds(g)).toEqual(["suite"]);
    await w.c.call("run_pre_push_suite", {});
    expect((await gate(w)).green).toBe(true);
  });

  it("refuses a dirty worktree", async () => {
    const w = await workerSession(app, "mai/cy/dirty");
    await greenMigration(w, "dirty_index", "CREATE INDEX t1_dirty ON t1 (note);\n");
    await writeFile(join(w.root, "scratch.txt"), "wip\n");
    expect(unmetKinds(await gate(w))).toContain("clean_tree");
    await rm(join(w.root, "scratch.txt"));
    expect((await gate(w)).green).toBe(true);
  });

  it("refuses when a dry run passed only for an older content of the file", async () => {
    const w = await workerSession(app, "mai/dee/older");
    const { file } = await greenMigration(w, "older_index", "CREATE INDEX t1_older ON t1 (note);\n");
    await w.commit(
      { [file]: "CREATE INDEX t1_older ON t1 (note);\nCREATE INDEX t2_older ON t2 (note);\n" },
      "more indexes",
    );
    await w.push();
    await w.c.call("run_pre_push_suite", {});
    const g = await gate(w);
    expect(unmetKinds(g)).toEqual(["dry_run"]);
    expect(g.conditions.find((x) => x.kind === "dry_run")?.detail).toContain("older content");
    await w.c.call("dry_run_migration", {});
    expect((await gate(w)).green).toBe(true);
  });

  it("refuses a migration file without a lease", async () => {
    const w = await workerSession(app, "mai/eli/sneaky");
    const sneaky = `${MIG_DIR}/090_sneaky.sql`;
    await w.commit({ [sneaky]: "CREATE TABLE sneaky (id int);\n" }, "a migration without a lease");
    await w.c.call("run_pre_push_suite", {});
    await w.c.call("dry_run_migration", { files: [sneaky] });
    const g = await gate(w);
    expect(g.conditions.find((x) => x.kind === "lease" && x.file === sneaky)).toMatchObject({
      passed: false,
      detail: "no lease holds version 90",
    });
    expect(g.green).toBe(false);
  });

  it("refuses an edit to an already-applied migration", async () => {
    const w = await workerSession(app, "mai/fay/edit");
    await greenMigration(w, "edit_index", "CREATE INDEX t1_edit ON t1 (note);\n");
    await w.commit(
      {
        [`${MIG_DIR}/002_create_t2.sql`]: "CREATE TABLE t2 (id bigint PRIMARY KEY, note text, extra int);\n",
      },
      "edit an applied migration",
    );
    await w.push();
    await w.c.call("run_pre_push_suite", {});
    const g = await gate(w);
    expect(unmetKinds(g)).toEqual(["no_edits"]);
    expect(g.unmet[0]).toContain(`${MIG_DIR}/002_create_t2.sql modified`);
    const refused = await w.c.call("report_completed", { summary: "x" });
    expect(refused.isError).toBe(true);
  });

  it("bad input: a 100 KB summary, another worker's id, a detached HEAD", async () => {
    const w = await workerSession(app, "mai/gus/bad");
    expect(textOf(await w.c.call("report_completed", { summary: "x".repeat(100 * 1024) }))).toContain(
      "at most 8000",
    );
    expect(textOf(await w.c.call("report_completed", { summary: "x", worker: "bob" }))).toContain(
      'worker "bob" is not the caller',
    );
    expect(textOf(await w.c.call("gate_status", { branch: "mai/bob/other" }))).toContain(
      "a worker asks only about its own gate",
    );
    await w.git("checkout", "-q", "--detach");
    expect(textOf(await w.c.call("report_completed", { summary: "x" }))).toContain("HEAD is not on a branch");
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
    await app.sandbox.git((await c.workspace.repo()).root, "push", "-q", "origin", "HEAD");
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
