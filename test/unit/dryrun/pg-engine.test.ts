import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScratchError, type ScratchSession, type TemplateSpec } from "../../../src/dryrun/engine.js";
import { createPgEngine } from "../../../src/dryrun/pg-engine.js";
import { SCRATCH_ADMIN, SCRATCH_RUNNER } from "../../helpers/pg.js";

/** Every key this file uses; afterAll drops each scratch database named after one of them. */
const tags: string[] = [];
const extraDatabases: string[] = [];

function newKey(): string {
  const key = randomBytes(16).toString("hex");
  tags.push(key.slice(0, 24));
  return key;
}

interface Calls {
  base: number;
  steps: number[];
}

/** A baseline with one table; step i adds column c<i>. */
function spec(keys: string[], calls: Calls, failAt?: number): TemplateSpec {
  return {
    keys,
    async buildBase(session) {
      calls.base++;
      await session.query("CREATE TABLE items (id int PRIMARY KEY)");
    },
    async applyStep(session, step) {
      calls.steps.push(step);
      const sql =
        step === failAt ? "ALTER TABLE nope ADD COLUMN x int" : `ALTER TABLE items ADD COLUMN c${step} int`;
      await session.query(sql);
    },
  };
}

const columns = async (session: ScratchSession) =>
  (
    await session.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    )
  ).rows.map((r) => r.column_name);

const currentDb = async (session: ScratchSession) =>
  String((await session.query("SELECT current_database() AS db")).rows[0]?.db);

let admin: pg.Client;
const engine = createPgEngine({ dsn: SCRATCH_RUNNER });

async function databases(pattern: string): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname",
    [pattern],
  );
  return rows.map((r) => r.datname);
}

const dbExists = async (name: string) => (await databases(name)).length === 1;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: SCRATCH_ADMIN });
  await admin.connect();
});

afterAll(async () => {
  await engine.close();
  const ours = (await databases("maigate\\_%")).filter((name) => tags.some((t) => name.includes(t)));
  for (const name of [...ours, ...extraDatabases]) {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  }
  await admin.end();
});

describe("createPgEngine: templates", () => {
  it("builds the chain once, answers cached, then extends from the previous last key", async () => {
    const [k0, k1, k2, k3] = [newKey(), newKey(), newKey(), newKey()];
    const calls: Calls = { base: 0, steps: [] };
    const first = await engine.ensureTemplate(spec([k0!, k1!, k2!], calls));
    expect(first).toMatchObject({ key: k2, builtFrom: -1 });
    expect(calls).toEqual({ base: 1, steps: [1, 2] });

    expect((await engine.ensureTemplate(spec([k0!, k1!, k2!], calls))).builtFrom).toBe("cached");
    expect(calls).toEqual({ base: 1, steps: [1, 2] });

    const next = await engine.ensureTemplate(spec([k0!, k1!, k2!, k3!], calls));
    expect(next).toMatchObject({ key: k3, builtFrom: 2 });
    expect(calls).toEqual({ base: 1, steps: [1, 2, 3] });

    const tpl = (k: string) => `maigate_tpl_${k.slice(0, 24)}`;
    expect(await dbExists(tpl(k0!))).toBe(true);
    expect(await dbExists(tpl(k1!))).toBe(false);
    expect(await dbExists(tpl(k3!))).toBe(true);
    await engine.withDisposableClone(k3!, async (s) => {
      expect(await columns(s)).toEqual(["id", "c1", "c2", "c3"]);
    });
  });

  it("builds a template once when two engines (two processes) ask at the same time", async () => {
    const other = createPgEngine({ dsn: SCRATCH_RUNNER });
    const keys = [newKey(), newKey()];
    const calls: Calls = { base: 0, steps: [] };
    try {
      const outcomes = await Promise.all([
        engine.ensureTemplate(spec(keys, calls)),
        other.ensureTemplate(spec(keys, calls)),
      ]);
      // Whichever engine wins the build lock builds (from empty, or from the base the other just
      // built); the other finds it cached. Every step ran exactly once.
      const built = outcomes.filter((o) => o.builtFrom !== "cached");
      expect(built).toHaveLength(1);
      expect([-1, 0]).toContain(built[0]!.builtFrom);
      expect(calls).toEqual({ base: 1, steps: [1] });
    } finally {
      await other.close();
    }
  });

  it("drops the build database and rethrows the failing step's own error", async () => {
    const keys = [newKey(), newKey(), newKey()];
    let thrown: unknown;
    const failing = spec(keys, { base: 0, steps: [] }, 2);
    const applyStep = failing.applyStep;
    failing.applyStep = (session, step) =>
      applyStep(session, step).catch((err: unknown) => {
        thrown = err;
        throw err;
      });
    const caught = await engine.ensureTemplate(failing).catch((err: unknown) => err);
    expect(caught).toBe(thrown);
    expect(caught).toMatchObject({ code: "42P01", message: 'relation "nope" does not exist' });
    expect(await databases(`maigate\\_build\\_${keys[2]!.slice(0, 24)}%`)).toEqual([]);
    expect(await dbExists(`maigate_tpl_${keys[2]!.slice(0, 24)}`)).toBe(false);
  });
});

describe("createPgEngine: clones", () => {
  it("reuses a warm clone whose transaction was rolled back, and gives concurrent users different ones", async () => {
    const keys = [newKey(), newKey()];
    await engine.ensureTemplate(spec(keys, { base: 0, steps: [] }));
    const key = keys[1]!;
    const firstDb = await engine.withWarmClone(key, async (s) => {
      expect(await columns(s)).toEqual(["id", "c1"]);
      await s.query("BEGIN");
      await s.query("ALTER TABLE items ADD COLUMN scratch int");
      expect(await columns(s)).toContain("scratch");
      return currentDb(s);
    });
    expect(firstDb).toBe(`maigate_warm_${key.slice(0, 24)}_0`);
    const again = await engine.withWarmClone(
      key,
      async (s) => [await currentDb(s), await columns(s)] as const,
    );
    expect(again).toEqual([firstDb, ["id", "c1"]]);

    let arrived = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const use = () =>
      engine.withWarmClone(key, async (s) => {
        if (++arrived === 2) release();
        await bothIn;
        return currentDb(s);
      });
    const [a, b] = await Promise.all([use(), use()]);
    expect(new Set([a, b]).size).toBe(2);
    expect([a, b].every((name) => name.startsWith(`maigate_warm_${key.slice(0, 24)}_`))).toBe(true);
  });

  it("falls back to a disposable clone when all eight warm clones are busy", async () => {
    const keys = [newKey()];
    await engine.ensureTemplate(spec(keys, { base: 0, steps: [] }));
    let arrived = 0;
    let release!: () => void;
    const allIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const names = await Promise.all(
      Array.from({ length: 9 }, () =>
        engine.withWarmClone(keys[0]!, async (s) => {
          if (++arrived === 9) release();
          await allIn;
          return currentDb(s);
        }),
      ),
    );
    const warm = names.filter((n) => n.startsWith("maigate_warm_"));
    const runs = names.filter((n) => n.startsWith("maigate_run_"));
    expect(new Set(warm).size).toBe(8);
    expect(runs).toHaveLength(1);
    expect(await dbExists(runs[0]!)).toBe(false);
  });

  it("drops a disposable clone after use, also when the callback throws", async () => {
    const keys = [newKey()];
    await engine.ensureTemplate(spec(keys, { base: 0, steps: [] }));
    const used = await engine.withDisposableClone(keys[0]!, async (s) => {
      expect(await columns(s)).toEqual(["id"]);
      await expect(s.query("SELECT missing FROM items")).rejects.toMatchObject({
        code: "42703",
        position: "8",
      });
      return currentDb(s);
    });
    expect(used).toMatch(/^maigate_run_[0-9a-f]{12}$/);
    expect(await dbExists(used)).toBe(false);

    let failedDb = "";
    const boom = new Error("boom");
    const caught = await engine
      .withDisposableClone(keys[0]!, async (s) => {
        failedDb = await currentDb(s);
        throw boom;
      })
      .catch((err: unknown) => err);
    expect(caught).toBe(boom);
    expect(failedDb).toMatch(/^maigate_run_/);
    expect(await dbExists(failedDb)).toBe(false);
  });

  it("refuses to clone a template that was never built", async () => {
    await expect(engine.withDisposableClone(newKey(), async () => 1)).rejects.toBeInstanceOf(ScratchError);
  });
});

describe("createPgEngine: janitor and server", () => {
  it("drops orphaned run and warm databases, never locked ones, templates or foreign names", async () => {
    const suffix = randomBytes(6).toString("hex");
    const orphan = `maigate_run_${suffix}`;
    const held = `maigate_run_${randomBytes(6).toString("hex")}`;
    const foreign = `notmaigate_${suffix}`;
    const tag = newKey().slice(0, 24);
    const template = `maigate_tpl_${tag}`;
    const warmOfTemplate = `maigate_warm_${tag}_0`;
    const warmOrphan = `maigate_warm_${newKey().slice(0, 24)}_3`;
    extraDatabases.push(orphan, held, foreign);
    // Leftovers are the runner's own databases (it made them); the foreign one is not.
    const runner = new pg.Client({ connectionString: SCRATCH_RUNNER });
    await runner.connect();
    for (const name of [orphan, held, template, warmOfTemplate, warmOrphan])
      await runner.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    await runner.end();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(foreign)}`);
    const owner = new pg.Client({ connectionString: SCRATCH_ADMIN });
    await owner.connect();
    try {
      await owner.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [held]);
      // Another test file's server may run its own janitor on this scratch server at the same time:
      // what matters is what exists afterwards, and that this one never drops the locked one.
      const dropped = await engine.janitor();
      expect(dropped).not.toContain(held);
      for (const name of [held, foreign, template, warmOfTemplate]) expect(await dbExists(name)).toBe(true);
      for (const name of [orphan, warmOrphan]) expect(await dbExists(name)).toBe(false);
    } finally {
      await owner.end();
    }
  });

  it("reports the server version", async () => {
    const { rows } = await admin.query<{ server_version_num: string }>("SHOW server_version_num");
    expect(await engine.serverVersionNum()).toBe(Number(rows[0]!.server_version_num));
    expect(engine.kind).toBe("postgres");
    expect(engine.limitations).toEqual([]);
  });

  it("turns an unreachable server into a ScratchError without the password", async () => {
    const down = createPgEngine({ dsn: "postgres://postgres:s3cret@127.0.0.1:1/postgres" });
    const err = await down.serverVersionNum().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScratchError);
    expect((err as ScratchError).message).toMatch(/^scratch server 127\.0\.0\.1:1 is unreachable: /);
    expect((err as ScratchError).message).not.toContain("s3cret");
    expect((err as ScratchError).hint).toContain("scratch.dsn");
    await expect(down.ensureTemplate(spec([newKey()], { base: 0, steps: [] }))).rejects.toBeInstanceOf(
      ScratchError,
    );
    await down.close();
  });
});
