import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ScratchSession, TemplateSpec } from "../../../src/dryrun/engine.js";
import { createPgliteEngine } from "../../../src/dryrun/pglite-engine.js";
import { createSnapshotStore } from "../../../src/dryrun/pglite-snapshots.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "maigate-snap-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(keys: string[], calls: { base: number }, extensions: string[] = []): TemplateSpec {
  return {
    keys,
    extensions,
    async buildBase(session) {
      calls.base++;
      await session.query("CREATE TABLE items (id int PRIMARY KEY)");
    },
    async applyStep(session, step) {
      await session.query(`ALTER TABLE items ADD COLUMN c${step} int`);
    },
  };
}

const columns = async (s: ScratchSession) =>
  (
    await s.query(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position",
    )
  ).rows.map((r) => r.column_name);

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

const snapshotFiles = async (where: string) => (await readdir(where)).filter((n) => n.endsWith(".tar.gz"));

describe("PGlite template snapshots across processes", () => {
  const keys = ["base-key", "step-1"];
  const snapDir = () => join(dir, "pglite");

  it("a second engine (a new process) loads the saved template instead of rebuilding it", async () => {
    const first = createPgliteEngine({ snapshots: createSnapshotStore(snapDir()) });
    const calls = { base: 0 };
    expect((await first.ensureTemplate(spec(keys, calls))).builtFrom).toBe(-1);
    const before = await first.withDisposableClone("step-1", columns);
    await first.close();
    expect(await snapshotFiles(snapDir())).toHaveLength(1);

    const second = createPgliteEngine({ snapshots: createSnapshotStore(snapDir()) });
    try {
      const again = { base: 0 };
      const outcome = await second.ensureTemplate(spec(keys, again));
      expect(outcome).toMatchObject({ key: "step-1", builtFrom: "snapshot" });
      expect(again.base).toBe(0);
      expect(await second.withDisposableClone(outcome.instance ?? outcome.key, columns)).toEqual(before);
      expect(before).toEqual(["id", "c1"]);

      // Another set of extensions is another template: the snapshot without citext is not reused.
      const withCitext = await second.ensureTemplate(spec(keys, again, ["citext"]));
      expect(withCitext.builtFrom).toBe(-1);
      expect(again.base).toBe(1);
      const made = await second.withDisposableClone(withCitext.instance!, async (s) => {
        await s.query("CREATE EXTENSION citext");
        return (await s.query("SELECT 'A'::citext = 'a'::citext AS same")).rows[0]?.same;
      });
      expect(made).toBe(true);
    } finally {
      await second.close();
    }
  });

  it("when main gained a migration, a new process extends the saved template instead of rebuilding", async () => {
    const known = new Set(await snapshotFiles(snapDir()));
    const next = createPgliteEngine({ snapshots: createSnapshotStore(snapDir()) });
    const calls = { base: 0 };
    try {
      const outcome = await next.ensureTemplate(spec([...keys, "step-2"], calls));
      expect(outcome).toMatchObject({ key: "step-2", builtFrom: 1 });
      expect(calls.base).toBe(0);
      expect(await next.withDisposableClone(outcome.instance!, columns)).toEqual(["id", "c1", "c2"]);
    } finally {
      await next.close();
    }
    // Its own snapshot (step-2) was saved; removed so the next test sees the two it expects.
    const added = (await snapshotFiles(snapDir())).filter((n) => !known.has(n));
    expect(added).toHaveLength(1);
    await createSnapshotStore(snapDir()).remove(added[0]!.replace(/\.tar\.gz$/, ""));
  });

  it("removes a corrupt snapshot and rebuilds, then saves a good one", async () => {
    const names = await snapshotFiles(snapDir());
    expect(names).toHaveLength(2);
    const pairs = names.map((n) => ({
      data: join(snapDir(), n),
      meta: join(snapDir(), n.replace(/\.tar\.gz$/, ".json")),
    }));
    // Truncated bytes: the hash catches them before PGlite sees them.
    for (const p of pairs) {
      const good = await readFile(p.data);
      await writeFile(p.data, good.subarray(0, good.length >> 1));
    }
    const third = createPgliteEngine({ snapshots: createSnapshotStore(snapDir()) });
    const calls = { base: 0 };
    try {
      expect((await third.ensureTemplate(spec(keys, calls))).builtFrom).toBe(-1);
      expect(calls.base).toBe(1);
    } finally {
      await third.close();
    }
    // The rebuilt template was saved again, whole; the citext one was never loaded, so it stays as it was.
    const intact = [];
    for (const p of pairs) {
      const recorded = JSON.parse(await readFile(p.meta, "utf8")) as { sha256: string };
      if (sha(await readFile(p.data)) === recorded.sha256) intact.push(p);
    }
    expect(intact).toHaveLength(1);
    const pair = intact[0]!;

    // Bytes that match their hash but are no data directory: PGlite refuses them; rebuilt too.
    const junk = Buffer.from("not a data directory");
    await writeFile(pair.data, junk);
    await writeFile(pair.meta, JSON.stringify({ sha256: sha(junk), bytes: junk.length }));
    const fourth = createPgliteEngine({ snapshots: createSnapshotStore(snapDir()) });
    try {
      expect((await fourth.ensureTemplate(spec(keys, calls))).builtFrom).toBe(-1);
      expect(calls.base).toBe(2);
    } finally {
      await fourth.close();
    }
    expect(sha(await readFile(pair.data))).not.toBe(sha(junk));
  });

  it("keeps the most recently used snapshots only", async () => {
    const where = join(dir, "bounded");
    const store = createSnapshotStore(where, { keep: 2 });
    const key = (n: number) => createHash("sha256").update(String(n)).digest("hex");
    for (let n = 1; n <= 3; n++) {
      await store.save(key(n), new Blob([`snapshot ${n}`]));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await store.load(key(1))).toBeNull();
    expect(await (await store.load(key(3)))?.text()).toBe("snapshot 3");
    expect((await readdir(where)).sort()).toEqual(
      [`${key(2)}.json`, `${key(2)}.tar.gz`, `${key(3)}.json`, `${key(3)}.tar.gz`].sort(),
    );
  });
});
