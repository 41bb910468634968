import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

/**
 * The catalog truths through reserve_migration_slot: a reservation never answers a version that any
 * file has (main, any branch, production), whatever the layout makes of the file's name; and one odd
 * file does not stop reservations for everyone. Each case stands alone with its own repository and
 * production database.
 */
interface Reserved {
  leases: { version: number; files: string[] }[];
  taken: { max: number; main: number | null; production: number | null; branches: number | null };
  warnings: string[];
}
interface Gate {
  green: boolean;
  conditions: { kind: string; rule: string | null; file: string | null; passed: boolean | null }[];
}

const GOLANG_HISTORY = {
  history_table: "public.schema_migrations",
  history_format: "golang-migrate",
};
/** golang-migrate's history: one row with the current version. */
const golangHistory = (version: number) => `
  CREATE TABLE public.schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
  INSERT INTO public.schema_migrations VALUES (${version}, false);`;

/** golang-migrate files `0001_create_t1.up.sql` … with their down files, as a sandbox files map. */
function golangMigrations(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let v = 1; v <= count; v++) {
    const p = String(v).padStart(4, "0");
    files[`${MIG_DIR}/${p}_create_t${v}.up.sql`] = `CREATE TABLE t${v} (id bigint PRIMARY KEY);\n`;
    files[`${MIG_DIR}/${p}_create_t${v}.down.sql`] = `DROP TABLE t${v};\n`;
  }
  return files;
}

describe("reserve_migration_slot and the catalog truths", () => {
  const apps: App[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.cleanup()));
  });
  const app = async (options: Parameters<typeof createApp>[0]) => {
    const a = await createApp(options);
    apps.push(a);
    return a;
  };
  const reserve = async (c: Connected, name: string) => {
    const r = structured<Reserved>(await c.call("reserve_migration_slot", { name }));
    expect(r.leases).toHaveLength(1);
    return r;
  };

  /**
   * Every leading number of a migration file on any ref of the host clone (as text, so nothing is
   * rounded), and every version in production's history: what a reservation must never answer.
   */
  const numbersHeld = async (
    a: App,
    history = "SELECT version::text AS v FROM paliad.applied_migrations",
  ) => {
    await a.sandbox.fetchHost();
    const refs = (await a.sandbox.git(a.sandbox.host, "for-each-ref", "--format=%(refname)")).split("\n");
    const held = new Set<string>();
    for (const ref of refs.filter(Boolean)) {
      const names = await a.sandbox.git(a.sandbox.host, "ls-tree", "-r", "--name-only", ref, `${MIG_DIR}/`);
      for (const path of names.split("\n")) {
        const digits = /^\d+/.exec(path.slice(MIG_DIR.length + 1))?.[0];
        if (digits) held.add(BigInt(digits).toString());
      }
    }
    for (const row of (await a.prod.query(history)).rows as { v: string }[])
      held.add(BigInt(row.v).toString());
    return held;
  };
  const expectFree = async (a: App, version: number, history?: string) => {
    const held = await numbersHeld(a, history);
    expect(held.size).toBeGreaterThan(0);
    expect(held.has(String(version))).toBe(false);
  };

  it("numbered: 057.sql on main holds 57, so the reservation answers 58 and warns of the file", async () => {
    const a = await app({
      migrations: { ...mainMigrations(5), [`${MIG_DIR}/057.sql`]: "SELECT 1;\n" },
      appliedUpTo: 5,
    });
    const r = await reserve(await a.session("mai/ann/after-057"), "add_x");
    expect(r.leases[0]!.version).toBe(58);
    expect(r.leases[0]!.files).toEqual([`${MIG_DIR}/058_add_x.sql`]);
    expect(r.taken.main).toBe(57);
    expect(r.warnings.join("\n")).toContain("main has a file the layout cannot read: 057.sql");
    await expectFree(a, 58);
  });

  it("numbered: production applied 57 from main's unreadable 057.sql; the reservation answers 58", async () => {
    const a = await app({
      migrations: { ...mainMigrations(5), [`${MIG_DIR}/057.sql`]: "CREATE TABLE t57 (id int);\n" },
      appliedUpTo: 5,
      prodExtraSql: "CREATE TABLE t57 (id int); INSERT INTO paliad.applied_migrations VALUES (57, '057');",
    });
    const r = await reserve(await a.session("mai/ann/applied-057"), "add_x");
    expect(r.leases[0]!.version).toBe(58);
    expect(r.taken).toMatchObject({ main: 57, production: 57, max: 57 });
    await expectFree(a, 58);
  });

  it("numbered: 057.sql on another worker's branch holds 57; that branch's gate reports it unparseable", async () => {
    const a = await app({ migrations: mainMigrations(5), appliedUpTo: 5 });
    const bob = await a.session("mai/bob/odd-name");
    const root = (await bob.workspace.repo()).root;
    await writeFile(join(root, MIG_DIR, "057.sql"), "SELECT 1;\n");
    await a.sandbox.git(root, "add", "-A");
    await a.sandbox.git(root, "commit", "-qm", "an unreadable name");
    await a.sandbox.git(root, "push", "-q", "origin", "HEAD");
    const gate = structured<Gate>(await bob.call("gate_status", {}));
    expect(gate.green).toBe(false);
    expect(gate.conditions).toContainEqual(
      expect.objectContaining({ kind: "unparseable", file: `${MIG_DIR}/057.sql`, passed: false }),
    );
    const r = await reserve(await a.session("mai/ann/after-bob"), "add_x");
    expect(r.leases[0]!.version).toBe(58);
    expect(r.taken.branches).toBe(57);
    await expectFree(a, 58);
  });

  it("golang-migrate: a bare 0157.up.sql that production applied holds 157; the reservation answers 158", async () => {
    const a = await app({
      migrations: {
        ...golangMigrations(3),
        [`${MIG_DIR}/0157.up.sql`]: "SELECT 1;\n",
        [`${MIG_DIR}/0157.down.sql`]: "SELECT 1;\n",
      },
      appliedUpTo: 0,
      prodExtraSql: golangHistory(157),
      config: { migrations: { dir: MIG_DIR, layout: "golang-migrate", ...GOLANG_HISTORY } },
    });
    const r = await reserve(await a.session("mai/ann/after-0157"), "add_x");
    expect(r.leases[0]!.version).toBe(158);
    expect(r.leases[0]!.files).toEqual([`${MIG_DIR}/0158_add_x.up.sql`, `${MIG_DIR}/0158_add_x.down.sql`]);
    expect(r.taken).toMatchObject({ main: 157, production: 157 });
    await expectFree(a, 158, "SELECT version::text AS v FROM public.schema_migrations");
  });

  it("golang-migrate: an 0158_add_x_up.sql typo on main, applied by the app's migrator, holds 158", async () => {
    const a = await app({
      migrations: { ...golangMigrations(3), [`${MIG_DIR}/0158_add_x_up.sql`]: "SELECT 1;\n" },
      appliedUpTo: 0,
      prodExtraSql: golangHistory(158),
      config: { migrations: { dir: MIG_DIR, layout: "golang-migrate", ...GOLANG_HISTORY } },
    });
    const r = await reserve(await a.session("mai/ann/after-typo"), "add_y");
    expect(r.leases[0]!.version).toBe(159);
    expect(r.taken.main).toBe(158);
    expect(r.warnings.join("\n")).toContain("0158_add_x_up.sql");
    await expectFree(a, 159, "SELECT version::text AS v FROM public.schema_migrations");
  });

  it("golang-migrate: an 0158_add_x_up.sql typo on a branch holds 158 (production at 3)", async () => {
    const a = await app({
      migrations: golangMigrations(3),
      appliedUpTo: 0,
      prodExtraSql: golangHistory(3),
      config: { migrations: { dir: MIG_DIR, layout: "golang-migrate", ...GOLANG_HISTORY } },
    });
    await a.sandbox.pushBranch("mai/bob/typo", { [`${MIG_DIR}/0158_add_x_up.sql`]: "SELECT 1;\n" });
    const r = await reserve(await a.session("mai/ann/after-branch-typo"), "add_y");
    expect(r.leases[0]!.version).toBe(159);
    expect(r.taken).toMatchObject({ main: 3, production: 3, branches: 158 });
    await expectFree(a, 159, "SELECT version::text AS v FROM public.schema_migrations");
  });

  it("a branch file beyond 2^53-1 does not stop reservations: other workers get main's next versions", async () => {
    const a = await app({ migrations: mainMigrations(5), appliedUpTo: 5 });
    await a.sandbox.pushBranch("mai/bob/huge", {
      [`${MIG_DIR}/99999999999999999999_x.sql`]: "SELECT 1;\n",
      [`${MIG_DIR}/99999999999999999998.sql`]: "SELECT 1;\n",
    });
    const r = await reserve(await a.session("mai/ann/after-huge"), "add_x");
    expect(r.leases[0]!.version).toBe(6);
    expect(r.taken).toMatchObject({ max: 5, branches: null });
    const next = await reserve(await a.session("mai/cid/after-huge"), "add_y");
    expect(next.leases[0]!.version).toBe(7);
    await expectFree(a, 6);
    await expectFree(a, 7);
  });

  it("custom layout with an optional name group: 0157.up.sql is version 157, so the answer is 158", async () => {
    const a = await app({
      migrations: {
        [`${MIG_DIR}/0156_init.up.sql`]: "SELECT 1;\n",
        [`${MIG_DIR}/0156_init.down.sql`]: "SELECT 1;\n",
        [`${MIG_DIR}/0157.up.sql`]: "SELECT 1;\n",
        [`${MIG_DIR}/0157.down.sql`]: "SELECT 1;\n",
      },
      appliedUpTo: 0,
      prodExtraSql: "INSERT INTO paliad.applied_migrations VALUES (156, 'init'), (157, '');",
      config: {
        migrations: {
          dir: MIG_DIR,
          history_table: "paliad.applied_migrations",
          layout: "custom",
          pattern: "^(?<version>\\d+)(?:_(?<name>.+?))?\\.(?<direction>up|down)\\.sql$",
          template: "{version}_{name}.{direction}.sql",
        },
      },
    });
    const r = await reserve(await a.session("mai/ann/custom"), "add_x");
    expect(r.leases[0]!.version).toBe(158);
    expect(r.leases[0]!.files).toEqual([`${MIG_DIR}/0158_add_x.up.sql`, `${MIG_DIR}/0158_add_x.down.sql`]);
    expect(r.taken.main).toBe(157);
    expect(r.warnings.filter((w) => w.startsWith("main has"))).toEqual([]);
    await expectFree(a, 158);
  });

  it("migrations.width: a branch file wider than the width holds no number; others reserve normally", async () => {
    const a = await app({
      migrations: mainMigrations(5),
      appliedUpTo: 5,
      config: { migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", width: 3 } },
    });
    await a.sandbox.pushBranch("mai/bob/wide", {
      [`${MIG_DIR}/12345_x.sql`]: "SELECT 1;\n",
      [`${MIG_DIR}/54321.sql`]: "SELECT 1;\n",
    });
    const r = await reserve(await a.session("mai/ann/narrow"), "add_x");
    expect(r.leases[0]!.version).toBe(6);
    expect(r.leases[0]!.files).toEqual([`${MIG_DIR}/006_add_x.sql`]);
    expect(r.taken.branches).toBeNull();
    await expectFree(a, 6);
  });

  it("migrations.width: a reservation that would exceed the width is refused with [bad_input] naming it", async () => {
    const a = await app({
      migrations: { ...mainMigrations(5), [`${MIG_DIR}/999_last.sql`]: "SELECT 1;\n" },
      appliedUpTo: 5,
      config: { migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", width: 3 } },
    });
    const c = await a.session("mai/ann/full");
    const result = await c.call("reserve_migration_slot", { name: "add_x" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^\[bad_input\] /);
    expect(textOf(result)).toContain("the next would be 1000, beyond migrations.width (3 digits)");
    const store = await c.workspace.store(null);
    expect(await store.listLeases({ includeEnded: true, limit: 10 })).toEqual([]);
  });
});
