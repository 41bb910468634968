import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { StateStore } from "../../src/store/types.js";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import {
  extraSessions,
  gateConfigText,
  headSession,
  reporterRuns,
  workerSession,
} from "../helpers/completion.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

interface Gate {
  green: boolean;
  required: string[];
  config: { from_main: boolean; source: string };
  conditions: { kind: string; file: string | null; passed: boolean | null; required: boolean }[];
  unmet: string[];
}

interface Reserved {
  worker: string;
  branch: string | null;
  leases: { lease_id: string; version: number; files: string[] }[];
}

const DROP = `${MIG_DIR}/004_drop_t1.sql`;

describe("identity is not the worker's to pick", () => {
  let app: App;
  let log: string;
  let sessions: ReturnType<typeof extraSessions>;
  const storeOf = (c: Connected): Promise<StateStore> => c.workspace.store(null);

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    log = join(app.sandbox.dir, "identity-reports.jsonl");
    await app.sandbox.commitToMain({ "mai-gate.yaml": gateConfigText(log) }, "gate config");
    sessions = extraSessions(app);
  });
  afterEach(async () => {
    await sessions.closeAll();
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("reserve_migration_slot: MAI_WORKER=bob on alice's branch is refused and no lease is written", async () => {
    const impostor = await app.session("mai/alice/imp-reserve", { MAI_WORKER: "bob" });
    const r = await impostor.call("reserve_migration_slot", { name: "sneak_in" });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toMatch(/^\[identity\] /);
    expect(text).toContain("MAI_WORKER=bob, but the branch mai/alice/imp-reserve belongs to alice");
    expect(text).toContain("Next step: Unset MAI_WORKER");

    const store = await storeOf(impostor);
    const leases = await store.listLeases({ includeEnded: true, limit: 10_000 });
    expect(leases.filter((l) => l.name === "sneak_in")).toEqual([]);
    const events = await store.events({ limit: 10_000 });
    expect(events.filter((e) => e.actor === "bob")).toEqual([]);
  });

  it("reserve_migration_slot: MAI_WORKER equal to the branch's worker, or on a non-worker branch, still works", async () => {
    const own = await app.session("mai/alice/own", { MAI_WORKER: "alice" });
    const mine = structured<Reserved>(await own.call("reserve_migration_slot", { name: "alice_own" }));
    expect(mine).toMatchObject({ worker: "alice", branch: "mai/alice/own" });

    const shared = await app.session("shared-fix", { MAI_WORKER: "carol" });
    const carol = structured<Reserved>(await shared.call("reserve_migration_slot", { name: "carol_fix" }));
    expect(carol).toMatchObject({ worker: "carol", branch: "shared-fix" });

    const store = await storeOf(own);
    const open = await store.listLeases({ includeEnded: false, limit: 10_000 });
    const byId = (id: string) => open.find((l) => l.id === id);
    expect(byId(mine.leases[0]!.lease_id)).toMatchObject({ worker: "alice", name: "alice_own" });
    expect(byId(carol.leases[0]!.lease_id)).toMatchObject({ worker: "carol", name: "carol_fix" });
  });

  it("release_slot: MAI_WORKER=dora on bob's branch cannot release dora's lease; the lease stays active", async () => {
    const dora = await app.session("mai/dora/rel");
    const lease = structured<Reserved>(await dora.call("reserve_migration_slot", { name: "dora_keeps" }))
      .leases[0]!;
    const impostor = await app.session("mai/bob/rel", { MAI_WORKER: "dora" });

    for (const args of [
      { lease_id: lease.lease_id, reason: "not needed" },
      { version: lease.version, reason: "not needed" },
    ]) {
      const r = await impostor.call("release_slot", args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(r)).toMatch(/^\[identity\] MAI_WORKER=dora, but the branch mai\/bob\/rel belongs to bob/);
    }
    const store = await storeOf(dora);
    const open = await store.listLeases({ includeEnded: false, limit: 10_000 });
    expect(open.find((l) => l.id === lease.lease_id)).toMatchObject({ worker: "dora", endedAt: null });
    const events = await store.events({ limit: 10, subject: lease.lease_id });
    expect(events.map((e) => e.action)).toEqual(["lease.reserve"]);
  });

  it("release_slot: the head revokes another worker's lease", async () => {
    const erin = await app.session("mai/erin/rel");
    const lease = structured<Reserved>(await erin.call("reserve_migration_slot", { name: "erin_stale" }))
      .leases[0]!;
    const head = await headSession(app);
    const revoked = structured<{ released: boolean; end_reason: string; worker: string }>(
      await head.call("release_slot", { lease_id: lease.lease_id, reason: "stale for a week" }),
    );
    expect(revoked).toMatchObject({ released: true, end_reason: "revoked", worker: "erin" });
    const store = await storeOf(erin);
    const open = await store.listLeases({ includeEnded: false, limit: 10_000 });
    expect(open.find((l) => l.id === lease.lease_id)).toBeUndefined();
    const events = await store.events({ limit: 10, subject: lease.lease_id });
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ["lease.revoke", "head"],
      ["lease.reserve", "erin"],
    ]);
  });

  it("report_completed: MAI_WORKER=bob on alice's green branch records nothing and runs no reporter", async () => {
    const alice = await workerSession(app, "mai/alice/report");
    const sha = await alice.commit({ "feature.txt": "done\n" }, "the work");
    await alice.push();
    expect(structured<{ state: string }>(await alice.c.call("run_pre_push_suite", {})).state).toBe("passed");
    expect(structured<Gate>(await alice.c.call("gate_status", {})).green).toBe(true);

    const impostor = await sessions.attach(alice.root, { MAI_WORKER: "bob" });
    const r = await impostor.call("report_completed", { summary: "bob did it" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^\[identity\] MAI_WORKER=bob, but the branch mai\/alice\/report belongs to alice/,
    );
    const store = await storeOf(alice.c);
    expect(await store.completions({ head: sha, limit: 10 })).toEqual([]);
    expect(await reporterRuns(log)).toEqual([]);

    // The gate was green all along: alice herself reports it, and the reporter runs once, as alice.
    const accepted = structured<{ accepted: boolean; reported: boolean }>(
      await alice.c.call("report_completed", { summary: "alice did it" }),
    );
    expect(accepted).toMatchObject({ accepted: true, reported: true });
    expect(await reporterRuns(log)).toEqual([["alice did it", "alice", "mai/alice/report", sha]]);
    expect((await store.completions({ head: sha, limit: 10 })).map((c) => c.worker)).toEqual(["alice"]);
  });
});

describe("config is not the worker's to pick", () => {
  let app: App;
  let log: string;
  let sessions: ReturnType<typeof extraSessions>;
  const weakConfig = () => gateConfigText(log, { require: [] });

  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
    log = join(app.sandbox.dir, "config-reports.jsonl");
    await app.sandbox.commitToMain({ "mai-gate.yaml": gateConfigText(log) }, "gate config");
    sessions = extraSessions(app);
  });
  afterEach(async () => {
    await sessions.closeAll();
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("MAI_GATE_MAIN naming a worker branch is a [config] error: no gate, no report, no reporter", async () => {
    // The branch weakens its own gate and drops a table nobody leased.
    const alice = await workerSession(app, "mai/alice/task");
    const sha = await alice.commit({ "mai-gate.yaml": weakConfig(), [DROP]: "DROP TABLE t1;\n" }, "weaken");
    await alice.push();
    await alice.c.call("run_pre_push_suite", {});

    for (const ref of ["mai/alice/task", "origin/mai/alice/task", "refs/heads/mai/alice/task"]) {
      const s = await sessions.attach(alice.root, { MAI_GATE_MAIN: ref });
      for (const [tool, args] of [
        ["gate_status", {}],
        ["report_completed", { summary: "dropped t1" }],
      ] as const) {
        const r = await s.call(tool, args);
        expect(r.isError, `${tool} with MAI_GATE_MAIN=${ref}`).toBe(true);
        expect(textOf(r)).toContain(`[config] mai-gate.yaml: MAI_GATE_MAIN=${ref} names a worker branch`);
        expect(textOf(r)).toContain("Next step: Unset MAI_GATE_MAIN");
      }
    }
    const store = await alice.c.workspace.store(null);
    expect(await store.completions({ head: sha, limit: 10 })).toEqual([]);
    expect(await reporterRuns(log)).toEqual([]);

    // Without it, main's config judges the branch: the unleased DROP TABLE is red.
    const gate = structured<Gate>(await alice.c.call("gate_status", {}));
    expect(gate.config.from_main).toBe(true);
    expect(gate.green).toBe(false);
    expect(gate.conditions.find((c) => c.kind === "lease" && c.file === DROP)).toMatchObject({
      passed: false,
      required: true,
    });
  });

  it("a gate from --config PATH is marked: main_config fails and is required though gate.require is empty", async () => {
    const alice = await workerSession(app, "mai/alice/cfg");
    const weak = join(app.sandbox.dir, "weak-mai-gate.yaml");
    await writeFile(weak, weakConfig());
    const sha = await alice.commit({ [DROP]: "DROP TABLE t1;\n" }, "drop t1");
    const s = await sessions.attach(alice.root, {}, { configPath: weak });
    await s.call("run_pre_push_suite", {});

    const gate = structured<Gate>(await s.call("gate_status", {}));
    expect(gate.config).toEqual({ from_main: false, source: weak });
    expect(gate.required).toEqual([]);
    expect(gate.green).toBe(false);
    expect(gate.conditions.find((c) => c.kind === "main_config")).toMatchObject({
      passed: false,
      required: true,
    });
    // The unleased DROP TABLE is not required by this config: main_config alone keeps the gate red.
    expect(gate.conditions.find((c) => c.kind === "lease" && c.file === DROP)).toMatchObject({
      passed: false,
      required: false,
    });
    expect(gate.unmet).toHaveLength(1);
    expect(gate.unmet[0]).toMatch(/^main_config: the config was read from --config .*, not from main/);

    const r = await s.call("report_completed", { summary: "dropped t1" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("REFUSED: nothing was reported");
    expect(r.structuredContent).toMatchObject({ accepted: false, completion_id: null });
    const store = await s.workspace.store(null);
    expect(await store.completions({ head: sha, limit: 10 })).toEqual([]);
    expect(await reporterRuns(log)).toEqual([]);
  });
});
