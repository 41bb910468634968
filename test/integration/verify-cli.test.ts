import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { gateConfigText, reportedMigration, workerSession } from "../helpers/completion.js";
import { CLI } from "../helpers/stdio.js";

interface VerifiedJson {
  verified: boolean;
  reasons: string[];
  completion: { id: string; reported: boolean } | null;
  gate: { green: boolean; head: string; config: { from_main: boolean } };
}

describe("mai-gate verify WORKER BRANCH SHA, through the built CLI", () => {
  let app: App;

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    const log = join(app.sandbox.dir, "cli-reports.jsonl");
    await app.sandbox.commitToMain({ "mai-gate.yaml": gateConfigText(log) }, "gate config");
  });
  afterAll(async () => {
    await app.cleanup();
  });

  /** The CLI in the host clone (on main), as a person or the head's script runs it: no MAI_ROLE. */
  const verify = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, "verify", ...args], {
      cwd: app.sandbox.host,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...app.env,
        MAI_GATE_LOG: "error",
        ...env,
      },
      extendEnv: false,
      reject: false,
    });

  it("exits 0 for a completion reported on a green gate; --json prints the structured answer", async () => {
    const w = await workerSession(app, "mai/ivy/index");
    const done = await reportedMigration(w, "add_ivy_index", "CREATE INDEX t1_note ON t1 (note);\n");

    const human = await verify(["ivy", w.branch, done.sha]);
    expect(human.stderr).toBe("");
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^VERIFIED: ivy's completion/);
    expect(human.stdout).toContain(done.completionId);

    const json = await verify(["ivy", w.branch, done.sha, "--json"]);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout) as VerifiedJson).toMatchObject({
      verified: true,
      reasons: [],
      completion: { id: done.completionId, reported: true },
      gate: { green: true, head: done.sha, config: { from_main: true } },
    });
  });

  it("exits 1 for a commit of the branch that no completion covers; --json lists the reasons", async () => {
    const w = await workerSession(app, "mai/jon/more");
    const done = await reportedMigration(w, "add_jon_index", "CREATE INDEX t2_note ON t2 (note);\n");
    const later = await w.commit({ "NOTES.md": "one more thing\n" }, "one more commit");
    await w.push();

    const human = await verify(["jon", w.branch, later]);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toMatch(/^NOT VERIFIED: jon on mai\/jon\/more/);

    const json = await verify(["jon", w.branch, later, "--json"]);
    expect(json.exitCode).toBe(1);
    const v = JSON.parse(json.stdout) as VerifiedJson;
    expect(v.verified).toBe(false);
    expect(v.completion).toBeNull();
    expect(v.reasons).toContainEqual(expect.stringContaining("no completion of jon is recorded"));
    expect(v.reasons).toContainEqual(expect.stringMatching(/^gate: suite: /));

    // The reported commit is no longer what the branch points at: not verified either.
    const old = await verify(["jon", w.branch, done.sha, "--json"]);
    expect(old.exitCode).toBe(1);
    expect((JSON.parse(old.stdout) as VerifiedJson).reasons).toContainEqual(
      expect.stringContaining(`is at ${later.slice(0, 10)}`),
    );
  });

  it("exits 2 for missing arguments and for a sha that is not one", async () => {
    for (const args of [[], ["kai"], ["kai", "mai/kai/x"], ["kai", "mai/kai/x", "abc1234", "extra"]]) {
      const r = await verify(args);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain("verify needs WORKER BRANCH SHA");
      expect(r.stdout).toBe("");
    }
    const bad = await verify(["kai", "mai/kai/x", "not-a-sha"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('"not-a-sha" is not a commit sha');
  });

  it("exits 3 when it cannot judge: MAI_GATE_MAIN names a worker branch", async () => {
    const w = await workerSession(app, "mai/lou/task");
    const done = await reportedMigration(w, "add_lou_index", "CREATE INDEX t3_note ON t3 (note);\n");
    const r = await verify(["lou", w.branch, done.sha], { MAI_GATE_MAIN: w.branch });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("could not judge");
    expect(r.stderr).toContain(`MAI_GATE_MAIN=${w.branch} names a worker branch`);
  });
});
