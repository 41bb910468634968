import { afterAll, describe, expect, it } from "vitest";
import { ScratchError, type ScratchSession, type TemplateSpec } from "../../../src/dryrun/engine.js";
import { createPgliteEngine } from "../../../src/dryrun/pglite-engine.js";

/** PGlite instances take seconds to create: one engine, few tests. */
const engine = createPgliteEngine();

afterAll(async () => {
  await engine.close();
});

interface Calls {
  base: number;
  steps: number[];
}

function spec(keys: string[], calls: Calls, failAt?: number): TemplateSpec {
  return {
    keys,
    async buildBase(session) {
      calls.base++;
      await session.query("CREATE TABLE items (id int PRIMARY KEY)");
    },
    async applyStep(session, step) {
      calls.steps.push(step);
      const sql = step === failAt ? "ALTER TABLE nope ADD COLUMN x int" : null;
      await session.query(sql ?? `ALTER TABLE items ADD COLUMN c${step} int`);
    },
  };
}

const columns = async (session: ScratchSession) =>
  (
    await session.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    )
  ).rows.map((r) => r.column_name);

describe("createPgliteEngine", () => {
  it("builds, caches and extends templates, and clones them", async () => {
    const calls: Calls = { base: 0, steps: [] };
    expect((await engine.ensureTemplate(spec(["b", "s1"], calls))).builtFrom).toBe(-1);
    expect((await engine.ensureTemplate(spec(["b", "s1"], calls))).builtFrom).toBe("cached");
    expect(await engine.ensureTemplate(spec(["b", "s1", "s2"], calls))).toMatchObject({
      key: "s2",
      builtFrom: 1,
    });
    expect(calls).toEqual({ base: 1, steps: [1, 2] });
    await engine.withDisposableClone("s2", async (s) => {
      expect(await columns(s)).toEqual(["id", "c1", "c2"]);
    });
    expect(await engine.serverVersionNum()).toBeGreaterThanOrEqual(170000);
    expect(engine.limitations.join(" ")).toMatch(/PGlite/);
    expect(await engine.janitor()).toEqual([]);
  });

  it("rolls the warm clone back after use and gives a concurrent user its own copy", async () => {
    await engine.withWarmClone("s2", async (s) => {
      await s.query("BEGIN");
      await s.query("ALTER TABLE items ADD COLUMN scratch int");
      expect(await columns(s)).toContain("scratch");
      await expect(s.query("SELECT missing FROM items")).rejects.toMatchObject({
        code: "42703",
        position: "8",
      });
    });
    let arrived = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const use = (id: number) =>
      engine.withWarmClone("s2", async (s) => {
        await s.query("BEGIN");
        await s.query(`INSERT INTO items (id) VALUES (${id})`);
        if (++arrived === 2) release();
        await bothIn;
        return [await columns(s), (await s.query("SELECT count(*)::int AS n FROM items")).rows[0]?.n];
      });
    const outcomes = await Promise.all([use(1), use(2)]);
    expect(outcomes).toEqual([
      [["id", "c1", "c2"], 1],
      [["id", "c1", "c2"], 1],
    ]);
    await expect(engine.withWarmClone("never-built", async () => 1)).rejects.toBeInstanceOf(ScratchError);
  });

  it("rethrows a failing step's error with pg's fields and keeps no template for it", async () => {
    let thrown: unknown;
    const failing = spec(["b", "s1", "s2", "bad"], { base: 0, steps: [] }, 3);
    const applyStep = failing.applyStep;
    failing.applyStep = (session, step) =>
      applyStep(session, step).catch((err: unknown) => {
        thrown = err;
        throw err;
      });
    const caught = await engine.ensureTemplate(failing).catch((err: unknown) => err);
    expect(caught).toBe(thrown);
    expect(caught).toMatchObject({ code: "42P01", message: 'relation "nope" does not exist' });
    await expect(engine.withDisposableClone("bad", async () => 1)).rejects.toBeInstanceOf(ScratchError);
  });
});
