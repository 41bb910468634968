import { afterAll, afterEach, describe, expect, it } from "vitest";
import { InputError, StateError } from "../../../src/errors.js";
import { SQLITE_SCHEMA } from "../../../src/store/schema.js";
import type {
  CompletionRecord,
  DryRunRecord,
  LeaseRow,
  Plan,
  Snapshot,
  StateStore,
  SuiteRunRecord,
} from "../../../src/store/types.js";
import { postgresBackend, type StateBackend, sqliteBackend } from "../../helpers/state-backends.js";

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

function lease(id: string, version: number, over: Partial<LeaseRow> = {}): LeaseRow {
  return {
    id,
    version,
    name: `m_${id}`,
    requestName: `m_${id}`,
    seq: 1,
    files: [`db/migrations/${version}_m_${id}.up.sql`, `db/migrations/${version}_m_${id}.down.sql`],
    worker: "alice",
    branch: "feat/a",
    createdAt: T0,
    expiresAt: T0 + HOUR,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNote: null,
    prodChecked: true,
    movedTo: null,
    ...over,
  };
}

const event = (action: string, subject: string, detail?: unknown) => ({
  actor: "alice",
  role: "worker",
  action,
  subject,
  ...(detail === undefined ? {} : { detail }),
});

function dryRun(runId: string, file: string, over: Partial<DryRunRecord> = {}): DryRunRecord {
  return {
    runId,
    file,
    worker: "alice",
    branch: "feat/a",
    version: 7,
    name: "add_index",
    sha256: `sha-${file}`,
    baselineId: "base-1",
    templateKey: null,
    engine: "pglite",
    outcome: "passed",
    report: { statements: [{ sql: "CREATE INDEX i ON t (c)", ms: 3 }], zeta: 1, alpha: null },
    createdAt: T0,
    ...over,
  };
}

function suiteRun(id: string, over: Partial<SuiteRunRecord> = {}): SuiteRunRecord {
  return {
    id,
    worker: "alice",
    branch: "feat/a",
    profile: "pre_push",
    tree: "tree-1",
    head: "head-1",
    suiteHash: "suite-1",
    dirty: false,
    checkout: { kind: "clean", shared: ["frontend/node_modules"] },
    state: "running",
    steps: [],
    pid: 4242,
    host: "host-a",
    startedAt: T0,
    finishedAt: null,
    live: null,
    ...over,
  };
}

function completion(id: string, over: Partial<CompletionRecord> = {}): CompletionRecord {
  return {
    id,
    worker: "alice",
    branch: "feat/a",
    head: "head-1",
    tree: "tree-1",
    summary: "added an index",
    evidence: { suiteRun: "s1", dryRuns: ["d1"] },
    reported: false,
    reporter: null,
    createdAt: T0,
    ...over,
  };
}

/** A decision that takes the next version after every open one. */
function nextVersion(worker: string, now: number): (s: Snapshot) => Plan<number> {
  return ({ open }) => {
    const version = Math.max(0, ...open.map((l) => l.version)) + 1;
    const id = `${worker}-${version}`;
    return {
      insert: [lease(id, version, { worker, createdAt: now })],
      events: [event("reserve", id)],
      result: version,
    };
  };
}

const backends: StateBackend[] = [sqliteBackend(), postgresBackend()];

afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe.each(backends)("StateStore on $name", (backend) => {
  const opened: StateStore[] = [];
  const open = async (location: string) => {
    const store = await backend.open(location);
    opened.push(store);
    return store;
  };
  const fresh = async () => open(await backend.fresh());

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it("opens at the newest schema version the code knows", async () => {
    const store = await fresh();
    expect(await store.schemaVersion()).toBe(SQLITE_SCHEMA.at(-1)!.version);
  });

  it("writes a plan's leases and events in one transaction", async () => {
    const store = await fresh();
    const result = await store.transact(T0, [], () => ({
      insert: [lease("a", 1), lease("b", 2, { seq: 2, prodChecked: false, branch: null })],
      events: [event("reserve", "a", { versions: [1, 2] }), event("note", "b")],
      result: "ok",
    }));
    expect(result).toBe("ok");
    const leases = await store.listLeases({ includeEnded: false, limit: 10 });
    expect(leases).toEqual([lease("b", 2, { seq: 2, prodChecked: false, branch: null }), lease("a", 1)]);
    const events = await store.events({ limit: 10 });
    expect(events.map((e) => [e.action, e.subject, e.at])).toEqual([
      ["note", "b", T0],
      ["reserve", "a", T0],
    ]);
    expect(events[1]?.detail).toEqual({ versions: [1, 2] });
    expect(events[0]?.detail).toBeUndefined();
    expect(await store.events({ limit: 10, subject: "a" })).toHaveLength(1);
    expect(await store.events({ limit: 1 })).toHaveLength(1);
  });

  it("keeps a JSON null detail apart from no detail", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({ events: [event("a", "x", null), event("b", "x")], result: null }));
    const [b, a] = await store.events({ limit: 10 });
    expect(a?.detail).toBeNull();
    expect(b?.detail).toBeUndefined();
  });

  it("passes an error thrown by decide through unchanged and writes nothing", async () => {
    const store = await fresh();
    const refusal = new InputError("no such slot", "ask for another one");
    await expect(
      store.transact(T0, [], () => {
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(await store.listLeases({ includeEnded: true, limit: 10 })).toEqual([]);
    expect(await store.events({ limit: 10 })).toEqual([]);
  });

  it("refuses a plan that gives two open leases one version, and writes none of it", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({ insert: [lease("a", 1)], result: null }));
    const attempt = store.transact(T0 + 1, ["a"], () => ({
      insert: [lease("b", 2), lease("c", 1)],
      renew: [{ id: "a", expiresAt: T0 + 5 * HOUR }],
      events: [event("reserve", "b")],
      result: null,
    }));
    await expect(attempt).rejects.toBeInstanceOf(StateError);
    expect(await store.listLeases({ includeEnded: true, limit: 10 })).toEqual([lease("a", 1)]);
    expect(await store.events({ limit: 10 })).toEqual([]);
    // The store still works after the failed transaction.
    await store.transact(T0 + 2, [], () => ({ insert: [lease("b", 2)], result: null }));
    expect(await store.listLeases({ includeEnded: false, limit: 10 })).toHaveLength(2);
  });

  it("lets an ended lease's version be taken again", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({ insert: [lease("a", 1)], result: null }));
    await store.transact(T0 + 1, [], () => ({
      end: [{ id: "a", reason: "moved", by: "alice", note: null, movedTo: "b" }],
      insert: [lease("b", 1)],
      result: null,
    }));
    const open = await store.transact(T0 + 2, [], (s) => ({ result: s.open }));
    expect(open.map((l) => l.id)).toEqual(["b"]);
  });

  it("ends and renews open leases only", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({ insert: [lease("a", 1), lease("b", 2)], result: null }));
    await store.transact(T0 + 10, [], () => ({
      end: [{ id: "a", reason: "revoked", by: "lead", note: "stale", movedTo: "z" }],
      renew: [{ id: "b", expiresAt: T0 + 2 * HOUR }],
      result: null,
    }));
    await store.transact(T0 + 20, [], () => ({
      end: [{ id: "a", reason: "released", by: "alice", note: null }],
      renew: [{ id: "a", expiresAt: T0 + 9 * HOUR }],
      result: null,
    }));
    const { requested } = await store.transact(T0 + 30, ["a", "b"], (s) => ({ result: s }));
    expect(requested.get("a")).toEqual(
      lease("a", 1, {
        endedAt: T0 + 10,
        endReason: "revoked",
        endedBy: "lead",
        endNote: "stale",
        movedTo: "z",
      }),
    );
    expect(requested.get("b")).toEqual(lease("b", 2, { expiresAt: T0 + 2 * HOUR }));
  });

  it("shows a decision the open leases by version and the requested ones, ended or not", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({
      insert: [lease("c", 3), lease("a", 1), lease("b", 2)],
      result: null,
    }));
    await store.transact(T0 + 1, [], () => ({
      end: [{ id: "b", reason: "expired", by: "system", note: null }],
      result: null,
    }));
    const snapshot = await store.transact(T0 + 2, ["b", "nope", "c"], (s) => ({ result: s }));
    expect(snapshot.open.map((l) => l.id)).toEqual(["a", "c"]);
    expect([...snapshot.requested.keys()]).toEqual(["b", "c"]);
    expect(snapshot.requested.get("b")?.endReason).toBe("expired");
  });

  it("lists leases newest first, filtered by worker, ended state and limit", async () => {
    const store = await fresh();
    await store.transact(T0, [], () => ({
      insert: [
        lease("a", 1, { createdAt: T0 }),
        lease("b", 2, { createdAt: T0 + 5, worker: "bob" }),
        lease("c", 3, { createdAt: T0 + 5 }),
        lease("d", 4, { createdAt: T0 + 9 }),
      ],
      result: null,
    }));
    await store.transact(T0 + 10, [], () => ({
      end: [{ id: "d", reason: "released", by: "alice", note: null }],
      result: null,
    }));
    const ids = (rows: LeaseRow[]) => rows.map((l) => l.id);
    expect(ids(await store.listLeases({ includeEnded: true, limit: 10 }))).toEqual(["d", "c", "b", "a"]);
    expect(ids(await store.listLeases({ includeEnded: false, limit: 10 }))).toEqual(["c", "b", "a"]);
    expect(ids(await store.listLeases({ includeEnded: true, worker: "alice", limit: 10 }))).toEqual([
      "d",
      "c",
      "a",
    ]);
    expect(ids(await store.listLeases({ includeEnded: false, worker: "bob", limit: 10 }))).toEqual(["b"]);
    expect(ids(await store.listLeases({ includeEnded: true, limit: 2 }))).toEqual(["d", "c"]);
  });

  it("gives exactly one of many concurrent claims the interval", async () => {
    const location = await backend.fresh();
    const [one, two] = [await open(location), await open(location)];
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).claimInterval("fetch", 60_000, T0)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await one.claimInterval("fetch", 60_000, T0 + 59_999)).toBe(false);
    expect(await two.claimInterval("other", 60_000, T0 + 1)).toBe(true);
    expect(await two.claimInterval("fetch", 60_000, T0 + 60_000)).toBe(true);
    expect(await one.claimInterval("fetch", 60_000, T0 + 60_001)).toBe(false);
  });

  it("reads and overwrites shared values", async () => {
    const store = await fresh();
    expect(await store.getShared("deploy")).toBeNull();
    await store.setShared("deploy", '{"verdict":"green"}', T0);
    expect(await store.getShared("deploy")).toEqual({ value: '{"verdict":"green"}', at: T0 });
    await store.setShared("deploy", "red", T0 + 5);
    expect(await store.getShared("deploy")).toEqual({ value: "red", at: T0 + 5 });
    expect(await store.getShared("other")).toBeNull();
  });

  it("records dry runs with their event and finds them by content, file, worker and run", async () => {
    const store = await fresh();
    await store.recordDryRun(
      [dryRun("r1", "a.sql"), dryRun("r1", "b.sql", { outcome: "failed" })],
      event("dry", "r1"),
    );
    await store.recordDryRun(
      [
        dryRun("r2", "a.sql", {
          worker: "bob",
          createdAt: T0 + 5,
          version: null,
          name: null,
          templateKey: "k",
        }),
      ],
      event("dry", "r2"),
    );
    expect(await store.dryRuns({ runId: "r1", file: "b.sql", limit: 10 })).toEqual([
      dryRun("r1", "b.sql", { outcome: "failed" }),
    ]);
    const byContent = await store.dryRuns({ sha256: "sha-a.sql", limit: 10 });
    expect(byContent.map((r) => r.runId)).toEqual(["r2", "r1"]);
    expect(byContent[0]).toEqual(
      dryRun("r2", "a.sql", {
        worker: "bob",
        createdAt: T0 + 5,
        version: null,
        name: null,
        templateKey: "k",
      }),
    );
    expect(JSON.stringify(byContent[1]?.report)).toBe(JSON.stringify(dryRun("r1", "a.sql").report));
    expect((await store.dryRuns({ file: "a.sql", limit: 10 })).map((r) => r.runId)).toEqual(["r2", "r1"]);
    expect((await store.dryRuns({ worker: "alice", limit: 10 })).map((r) => r.file).sort()).toEqual([
      "a.sql",
      "b.sql",
    ]);
    expect(await store.dryRuns({ limit: 1 })).toHaveLength(1);
    expect((await store.events({ limit: 10, subject: "r1" })).map((e) => e.at)).toEqual([T0]);
  });

  it("upserts suite runs, filters them, and marks dead running ones interrupted", async () => {
    const store = await fresh();
    await store.saveSuiteRun(suiteRun("s1", { pid: 1 }), event("suite_start", "s1"));
    await store.saveSuiteRun(suiteRun("s2", { pid: 2, startedAt: T0 + 1, dirty: true, checkout: null }));
    const live = { checkedAt: T0 + 2, up: true, sha: "live-sha", status: 200, error: null };
    await store.saveSuiteRun(
      suiteRun("s3", { pid: 3, startedAt: T0 + 2, profile: "smoke", tree: "tree-2", live }),
    );
    expect((await store.suiteRuns({ id: "s3", limit: 1 }))[0]?.live).toEqual(live);
    const done = suiteRun("s1", {
      pid: 1,
      worker: "mallory",
      state: "passed",
      steps: [{ name: "go test", ok: true }],
      finishedAt: T0 + 100,
    });
    await store.saveSuiteRun(done, event("suite_end", "s1"));
    const [s1] = await store.suiteRuns({ id: "s1", limit: 1 });
    expect(s1).toEqual({ ...done, worker: "alice" });
    expect((await store.events({ limit: 10, subject: "s1" })).map((e) => [e.action, e.at])).toEqual([
      ["suite_end", T0 + 100],
      ["suite_start", T0],
    ]);
    const ids = (runs: SuiteRunRecord[]) => runs.map((r) => r.id);
    expect(ids(await store.suiteRuns({ limit: 10 }))).toEqual(["s3", "s2", "s1"]);
    expect(ids(await store.suiteRuns({ tree: "tree-1", suiteHash: "suite-1", limit: 10 }))).toEqual([
      "s2",
      "s1",
    ]);
    expect(ids(await store.suiteRuns({ profile: "pre_push", state: "passed", limit: 10 }))).toEqual(["s1"]);
    expect(ids(await store.suiteRuns({ dirty: true, limit: 10 }))).toEqual(["s2"]);
    expect(ids(await store.suiteRuns({ dirty: false, limit: 10 }))).toEqual(["s3", "s1"]);
    expect(ids(await store.suiteRuns({ profile: "pre_push", limit: 1 }))).toEqual(["s2"]);

    const seen: (string | null)[] = [];
    const interrupted = await store.interruptSuiteRuns((pid, host) => {
      seen.push(host);
      return pid === 3;
    }, T0 + 200);
    expect(seen.every((h) => h === "host-a")).toBe(true);
    expect(interrupted).toEqual(["s2"]);
    expect(await store.suiteRuns({ id: "s2", limit: 1 })).toEqual([
      suiteRun("s2", {
        pid: 2,
        startedAt: T0 + 1,
        dirty: true,
        checkout: null,
        state: "interrupted",
        finishedAt: T0 + 200,
      }),
    ]);
    expect(ids(await store.suiteRuns({ state: "running", limit: 10 }))).toEqual(["s3"]);
    expect(await store.interruptSuiteRuns(() => true, T0 + 300)).toEqual([]);
  });

  it("upserts completions and finds them newest first", async () => {
    const store = await fresh();
    await store.saveCompletion(completion("c1"), event("complete", "c1"));
    await store.saveCompletion(
      completion("c2", { head: "head-2", createdAt: T0 + 5 }),
      event("complete", "c2"),
    );
    await store.saveCompletion(
      completion("c3", { worker: "bob", createdAt: T0 + 9 }),
      event("complete", "c3"),
    );
    const reported = completion("c1", { summary: "changed", reported: true, reporter: { exitCode: 0 } });
    await store.saveCompletion(reported, event("reported", "c1"));
    const ids = (rows: CompletionRecord[]) => rows.map((c) => c.id);
    expect(await store.completions({ worker: "alice", head: "head-1", limit: 10 })).toEqual([
      { ...reported, summary: "added an index" },
    ]);
    expect(ids(await store.completions({ limit: 10 }))).toEqual(["c3", "c2", "c1"]);
    expect(ids(await store.completions({ worker: "alice", limit: 10 }))).toEqual(["c2", "c1"]);
    expect(ids(await store.completions({ limit: 1 }))).toEqual(["c3"]);
    expect((await store.completions({ head: "head-2", limit: 1 }))[0]?.reporter).toBeNull();
    expect(await store.events({ limit: 10, subject: "c1" })).toHaveLength(2);
  });

  it("keeps every lease and record across a restart", async () => {
    const location = await backend.fresh();
    const first = await open(location);
    await first.transact(T0, [], () => ({
      insert: [lease("a", 1), lease("b", 2)],
      events: [event("reserve", "a", { n: 2 })],
      result: null,
    }));
    await first.transact(T0 + 1, [], () => ({
      end: [{ id: "a", reason: "released", by: "alice", note: "done" }],
      result: null,
    }));
    await first.setShared("deploy", "green", T0);
    await first.claimInterval("fetch", 60_000, T0);
    await first.recordDryRun([dryRun("r1", "a.sql")], event("dry", "r1"));
    await first.saveSuiteRun(suiteRun("s1"), event("suite", "s1"));
    await first.saveCompletion(completion("c1"), event("complete", "c1"));
    const before = await snapshotOf(first);
    await first.close();

    const second = await open(location);
    expect(await snapshotOf(second)).toEqual(before);
    expect(await second.claimInterval("fetch", 60_000, T0 + 1)).toBe(false);
    expect(await second.schemaVersion()).toBe(SQLITE_SCHEMA.at(-1)!.version);
    expect(before.leases).toHaveLength(2);
  });

  it("gives 50 concurrent transactions from two stores 50 distinct versions", async () => {
    const location = await backend.fresh();
    const stores = [await open(location), await open(location)];
    const versions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stores[i % 2]!.transact(T0 + i, [], nextVersion(`w${i}`, T0 + i))),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const leases = await stores[0]!.listLeases({ includeEnded: false, limit: 100 });
    expect(new Set(leases.map((l) => l.version)).size).toBe(50);
    expect(await stores[1]!.events({ limit: 100 })).toHaveLength(50);
  });
});

async function snapshotOf(store: StateStore) {
  return {
    leases: await store.listLeases({ includeEnded: true, limit: 100 }),
    events: await store.events({ limit: 100 }),
    shared: await store.getShared("deploy"),
    dryRuns: await store.dryRuns({ limit: 100 }),
    suiteRuns: await store.suiteRuns({ limit: 100 }),
    completions: await store.completions({ limit: 100 }),
  };
}
