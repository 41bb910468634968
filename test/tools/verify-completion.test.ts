import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import {
  extraSessions,
  gateConfigText,
  headSession,
  reportedMigration,
  reporterRuns,
  workerSession,
} from "../helpers/completion.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

interface Verified {
  verified: boolean;
  reasons: string[];
  completion: { id: string; reported: boolean; summary: string } | null;
  gate: {
    green: boolean;
    worker: string | null;
    head: string;
    judged_from: string;
    config: { from_main: boolean; source: string };
    unmet: string[];
  };
}

const INDEX_SQL = "CREATE INDEX t1_note ON t1 (note);\n";

describe("verify_completion: the head's final word", () => {
  let app: App;
  let log: string;
  let head: Connected;
  let sessions: ReturnType<typeof extraSessions>;
  const verify = async (c: Connected, args: { worker: string; branch: string; sha: string }) =>
    structured<Verified>(await c.call("verify_completion", args));

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    log = join(app.sandbox.dir, "verify-reports.jsonl");
    await app.sandbox.commitToMain({ "mai-gate.yaml": gateConfigText(log) }, "gate config");
    head = await headSession(app);
    sessions = extraSessions(app);
  });
  afterEach(async () => {
    await sessions.closeAll();
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("a completion reported on a green gate is verified for exactly its worker, branch and sha", async () => {
    const w = await workerSession(app, "mai/alice/index");
    const done = await reportedMigration(w, "add_note_index", INDEX_SQL);
    expect(await reporterRuns(log)).toContainEqual([
      "Added add_note_index; suite and dry run pass.",
      "alice",
      "mai/alice/index",
      done.sha,
    ]);

    const r = await head.call("verify_completion", { worker: "alice", branch: w.branch, sha: done.sha });
    const v = structured<Verified>(r);
    expect(v).toMatchObject({
      verified: true,
      reasons: [],
      completion: { id: done.completionId, reported: true },
      gate: { green: true, worker: "alice", head: done.sha, judged_from: "ref", config: { from_main: true } },
    });
    expect(textOf(r)).toMatch(/^VERIFIED: alice's completion/);
    // An unambiguous prefix names the same commit.
    expect(
      (await verify(head, { worker: "alice", branch: w.branch, sha: done.sha.slice(0, 12) })).verified,
    ).toBe(true);
  });

  it("another sha of the branch is not verified: one more commit without a new suite run", async () => {
    const w = await workerSession(app, "mai/bea/more");
    await reportedMigration(w, "add_bea_index", "CREATE INDEX t2_note ON t2 (note);\n");
    const later = await w.commit({ "NOTES.md": "one more thing\n" }, "one more commit");
    await w.push();

    const r = await head.call("verify_completion", { worker: "bea", branch: w.branch, sha: later });
    const v = structured<Verified>(r);
    expect(v.verified).toBe(false);
    expect(v.completion).toBeNull();
    expect(v.reasons).toContainEqual(
      expect.stringContaining("no completion of bea is recorded for mai/bea/more"),
    );
    expect(v.reasons).toContainEqual(expect.stringMatching(/^gate: suite: no suite run for tree/));
    expect(textOf(r)).toMatch(/^NOT VERIFIED: bea on mai\/bea\/more/);
  });

  it("another worker's name is not verified, on the worker's branch or on its own", async () => {
    const w = await workerSession(app, "mai/cleo/task");
    const done = await reportedMigration(w, "add_cleo_index", "CREATE INDEX t3_note ON t3 (note);\n");

    const onCleos = await verify(head, { worker: "dino", branch: w.branch, sha: done.sha });
    expect(onCleos.verified).toBe(false);
    expect(onCleos.completion).toBeNull();
    expect(onCleos.reasons).toContainEqual(
      expect.stringContaining("mai/cleo/task is a branch of cleo, not of dino"),
    );
    expect(onCleos.reasons).toContainEqual(expect.stringContaining("no completion of dino is recorded"));

    const onDinos = await verify(head, { worker: "dino", branch: "mai/dino/task", sha: done.sha });
    expect(onDinos.verified).toBe(false);
    expect(onDinos.completion).toBeNull();
    expect(onDinos.reasons).toContainEqual(expect.stringContaining("no completion of dino is recorded"));
    expect(onDinos.reasons).toContainEqual(
      expect.stringMatching(/^gate: lease .*: version \d+ is leased to cleo/),
    );
  });

  it("a completion whose branch later got a new, unleased migration commit is not verified", async () => {
    const w = await workerSession(app, "mai/finn/task");
    const done = await reportedMigration(w, "add_finn_index", "CREATE INDEX t1_id_note ON t1 (id, note);\n");
    expect((await verify(head, { worker: "finn", branch: w.branch, sha: done.sha })).verified).toBe(true);

    const sneaky = `${MIG_DIR}/${String(done.version + 50).padStart(3, "0")}_sneaky.sql`;
    const later = await w.commit({ [sneaky]: "DROP TABLE t2;\n" }, "a migration without a lease");
    await w.push();

    const old = await verify(head, { worker: "finn", branch: w.branch, sha: done.sha });
    expect(old.verified).toBe(false);
    expect(old.reasons).toContainEqual(expect.stringContaining(`is at ${later.slice(0, 10)}`));

    const tip = await verify(head, { worker: "finn", branch: w.branch, sha: later });
    expect(tip.verified).toBe(false);
    expect(tip.reasons).toContainEqual(`gate: lease ${sneaky}: no lease holds version ${done.version + 50}`);
  });

  it("a worker may not verify, not even its own completion: [forbidden]", async () => {
    const w = await workerSession(app, "mai/gus/task");
    const done = await reportedMigration(w, "add_gus_index", "CREATE INDEX t2_id_note ON t2 (id, note);\n");
    const r = await w.c.call("verify_completion", { worker: "gus", branch: w.branch, sha: done.sha });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^\[forbidden\] role "worker" may not verify completions/);
    expect(r.structuredContent).toBeUndefined();
  });

  it("a sha that is not hex is [bad_input] from the input schema", async () => {
    for (const sha of ["not-a-sha", "zzzzzzzzzz", "HEAD", "abc"]) {
      const r = await head.call("verify_completion", { worker: "alice", branch: "mai/alice/index", sha });
      expect(r.isError, sha).toBe(true);
      const text = textOf(r);
      expect(text, sha).toMatch(/^\[bad_input\] verify_completion: sha: not a commit sha/);
    }
  });

  it("the head recomputes with main's config: a report made under a branch that names itself main is not verified", async () => {
    // A worker pushes its work also as a branch outside mai/, whose config calls itself main and
    // requires nothing, and points MAI_GATE_MAIN at it. Its own server cannot tell that from a main
    // with another name; the head's verification reads main's config and judges the real changes.
    const w = await workerSession(app, "mai/ida/task");
    const drop = `${MIG_DIR}/090_drop_t3.sql`;
    const sha = await w.commit(
      {
        "mai-gate.yaml": gateConfigText(log, { require: [] }).replace(
          "migrations:",
          "main_branch: origin/ida-main\nmigrations:",
        ),
        [drop]: "DROP TABLE t3;\n",
      },
      "weaken",
    );
    await w.push();
    await w.git("push", "-q", "origin", `${w.branch}:ida-main`);
    const s = await sessions.attach(w.root, { MAI_GATE_MAIN: "origin/ida-main" });
    await s.call("run_pre_push_suite", {});
    await s.call("report_completed", { summary: "dropped t3" });

    const v = await verify(head, { worker: "ida", branch: w.branch, sha });
    expect(v.verified).toBe(false);
    expect(v.gate.config.from_main).toBe(true);
    expect(v.gate.config.source).toContain("on origin/main");
    expect(v.reasons).toContainEqual(`gate: lease ${drop}: no lease holds version 90`);
  });

  it("a head judging with --config is not verified, even with main's own config text", async () => {
    const w = await workerSession(app, "mai/hana/task");
    const done = await reportedMigration(w, "add_hana_index", "CREATE INDEX t3_id_note ON t3 (id, note);\n");
    expect((await verify(head, { worker: "hana", branch: w.branch, sha: done.sha })).verified).toBe(true);

    const copy = join(app.sandbox.dir, "copy-of-main.yaml");
    await writeFile(copy, gateConfigText(log));
    const other = await sessions.attach(app.sandbox.host, { MAI_ROLE: "head" }, { configPath: copy });
    const v = await verify(other, { worker: "hana", branch: w.branch, sha: done.sha });
    expect(v.verified).toBe(false);
    expect(v.gate.config).toEqual({ from_main: false, source: copy });
    expect(v.reasons).toContainEqual(`the config is not main's: read from --config ${copy}, not from main`);
    expect(v.gate.unmet).toContainEqual(expect.stringMatching(/^main_config: /));
  });
});
