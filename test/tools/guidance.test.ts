import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, mainMigrations } from "../helpers/app.js";
import { gateConfigText, workerSession } from "../helpers/completion.js";
import { connect, structured, textOf } from "../helpers/mcp.js";

interface Gate {
  green: boolean;
  next: string;
  conditions: { kind: string; file: string | null; passed: boolean | null; detail: string }[];
}

/** Each answer's Next line follows the worker's actual state, through a real MCP client. */
describe("answers that know the state: Next lines from the verdict engine", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    await app.sandbox.commitToMain(
      { "mai-gate.yaml": gateConfigText(join(app.sandbox.dir, "reported.jsonl")) },
      "gate config",
    );
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("dry run passed on an uncommitted file → commit; committed → suite; suite passed → push; pushed → report", async () => {
    const w = await workerSession(app, "mai/nia/flow");
    const lease = structured<{ leases: { files: string[] }[] }>(
      await w.c.call("reserve_migration_slot", { name: "add_nia" }),
    ).leases[0]!;
    await writeFile(join(w.root, lease.files[0]!), "CREATE TABLE nia (id int);\n");

    const dry = await w.c.call("dry_run_migration", {});
    expect(structured<{ passed: boolean; next: string }>(dry)).toMatchObject({ passed: true });
    expect(structured<{ next: string }>(dry).next).toMatch(/^Next: commit your changes/);
    expect(textOf(dry)).not.toContain("run_pre_push_suite, then push");

    await w.git("add", "-A");
    await w.git("commit", "-qm", "add nia");
    const committed = structured<Gate>(await w.c.call("gate_status", {}));
    expect(committed.next).toBe(
      "Next: run_pre_push_suite (it runs on a clean checkout of HEAD). (1 more unmet after it)",
    );

    const suite = await w.c.call("run_pre_push_suite", {});
    expect(structured<{ state: string; next: string }>(suite)).toMatchObject({
      state: "passed",
      next: `Next: git push -u origin ${w.branch} (then call gate_status again).`,
    });
    expect(textOf(suite)).toContain(`Next: git push -u origin ${w.branch}`);

    await w.push();
    const green = await w.c.call("gate_status", {});
    expect(structured<Gate>(green)).toMatchObject({
      green: true,
      next: "Next: report_completed with what you did and how it was verified.",
    });
    expect(textOf(green)).toContain("Next: report_completed");
  });

  it("pushed is a condition: an unpushed or behind branch stays red and report_completed refuses", async () => {
    const w = await workerSession(app, "mai/oto/push");
    await w.commit({ "NOTES.md": "work\n" }, "work");
    await w.c.call("run_pre_push_suite", {});
    const unpushed = structured<Gate>(await w.c.call("gate_status", {}));
    expect(unpushed.green).toBe(false);
    expect(unpushed.conditions.find((c) => c.kind === "pushed")).toMatchObject({
      passed: false,
      detail: `not pushed: origin has no branch ${w.branch}`,
    });
    const refused = await w.c.call("report_completed", { summary: "done" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain(`Next: git push -u origin ${w.branch}`);

    await w.push();
    await w.commit({ "NOTES.md": "more work\n" }, "more");
    await w.c.call("run_pre_push_suite", {});
    const behind = structured<Gate>(await w.c.call("gate_status", {}));
    expect(behind.conditions.find((c) => c.kind === "pushed")?.detail).toMatch(
      new RegExp(`^origin/${w.branch} is at [0-9a-f]{10}, not at HEAD`),
    );
    await w.push();
    expect(structured<Gate>(await w.c.call("gate_status", {})).green).toBe(true);
  });

  it("a remote-tracking ref written by hand does not count as pushed: the fetch before judging corrects it", async () => {
    const w = await workerSession(app, "mai/uma/forge");
    await w.commit({ "NOTES.md": "forged\n" }, "work");
    await w.c.call("run_pre_push_suite", {});
    await w.git("update-ref", `refs/remotes/origin/${w.branch}`, "HEAD");
    const g = structured<Gate>(await w.c.call("gate_status", {}));
    expect(g.green).toBe(false);
    expect(g.conditions.find((c) => c.kind === "pushed")?.detail).toBe(
      `not pushed: origin has no branch ${w.branch}`,
    );
    expect((await w.c.call("report_completed", { summary: "forged" })).isError).toBe(true);
  });

  it("a dirty tree lists the migration whose working copy differs from its dry run, before the commit", async () => {
    const w = await workerSession(app, "mai/pia/dirty");
    const lease = structured<{ leases: { files: string[] }[] }>(
      await w.c.call("reserve_migration_slot", { name: "add_pia" }),
    ).leases[0]!;
    const file = lease.files[0]!;
    await writeFile(join(w.root, file), "CREATE TABLE pia (id int);\n");
    await w.c.call("dry_run_migration", {});
    await writeFile(join(w.root, file), "CREATE TABLE pia (id int, note text);\n");
    const g = structured<Gate & { unmet: string[] }>(await w.c.call("gate_status", {}));
    const unmet = g.conditions
      .filter((c) => c.passed === false)
      .map((c) => `${c.kind} ${c.file ?? ""}`.trim());
    expect(unmet).toEqual([`dry_run ${file}`, "clean_tree", "suite", "pushed"]);
    expect(g.conditions.find((c) => c.kind === "dry_run")?.detail).toBe(
      "its uncommitted content differs from its last dry run",
    );
    expect(g.next).toBe(
      `Next: dry_run_migration (no files argument) for ${file}, then commit. (3 more unmet after it)`,
    );
  });

  it("suite_status without a job id answers the latest recorded run of HEAD, also from a new server", async () => {
    const w = await workerSession(app, "mai/quy/status");
    await w.commit({ "NOTES.md": "quy\n" }, "work");
    const ran = structured<{ job_id: string }>(await w.c.call("run_pre_push_suite", {}));
    const fresh = await connect({ cwd: w.root, env: app.env });
    try {
      const answer = structured<{ job_id: string; state: string; from_record: boolean }>(
        await fresh.call("suite_status", {}),
      );
      expect(answer).toMatchObject({ job_id: ran.job_id, state: "passed", from_record: true });
      await w.commit({ "NOTES.md": "quy again\n" }, "more");
      const none = await fresh.call("suite_status", {});
      expect(none.isError).toBe(true);
      expect(textOf(none)).toContain("no suite run is recorded for this HEAD's tree");
    } finally {
      await fresh.close();
    }
  });

  it("list_slot_leases says one line per lease: version, file, state, worker, age", async () => {
    const w = await workerSession(app, "mai/ray/list");
    await w.c.call("reserve_migration_slot", { name: "add_ray" });
    const text = textOf(await w.c.call("list_slot_leases", { worker: "ray" }));
    expect(text).toMatch(
      /^- \d+ internal\/db\/migrations\/\d+_add_ray\.sql — active — ray \(mai\/ray\/list\) — \d+ s old \(L/m,
    );
  });
});
