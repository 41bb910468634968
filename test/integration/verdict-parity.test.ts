import { rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { type Connected, structured } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

/**
 * One verdict for the worker's gate and CI: every red scenario runs through gate_status (a real MCP
 * client in the worker's worktree) and `mai-gate check` (the built CLI in the same checkout), and
 * both must be red with the same record-independent conditions (kind and rule).
 */
interface Cond {
  kind: string;
  rule: string | null;
  file: string | null;
  passed: boolean | null;
  required: boolean;
}
const CI_KINDS = new Set(["unparseable", "collision", "no_edits"]);
const key = (c: Cond) =>
  `${c.kind}${c.rule ? `/${c.rule}` : ""}${c.file ? ` ${c.file.split("/").at(-1)}` : ""}`;
const unmet = (cs: Cond[]) =>
  cs
    .filter((c) => c.required && c.passed === false && CI_KINDS.has(c.kind))
    .map(key)
    .sort();

interface Scenario {
  name: string;
  app?: Parameters<typeof createApp>[0];
  /** Runs in ann's fresh worktree (branch mai/ann/<n>), before her commit. */
  setup: (s: { app: App; ann: Connected; root: string; bob: () => Promise<Connected> }) => Promise<void>;
  expected: string[];
}

const base = { migrations: mainMigrations(5), appliedUpTo: 5 };
const write = (root: string, file: string, sql = "SELECT 1;\n") => writeFile(join(root, MIG_DIR, file), sql);

const SCENARIOS: Scenario[] = [
  {
    name: "another branch's file holds the version, and its worker holds the lease",
    setup: async ({ app, root, bob }) => {
      await (await bob()).call("reserve_migration_slot", { name: "bobs" });
      await app.sandbox.pushBranch("mai/bob/x", { [`${MIG_DIR}/006_bobs.sql`]: "SELECT 1;\n" });
      await write(root, "006_anns.sql");
    },
    expected: ["collision/branch 006_anns.sql", "collision/lease 006_anns.sql"],
  },
  {
    name: "another worker's lease holds the version (no file yet)",
    setup: async ({ root, bob }) => {
      await (await bob()).call("reserve_migration_slot", { name: "bobs" });
      await write(root, "006_anns.sql");
    },
    expected: ["collision/lease 006_anns.sql"],
  },
  {
    name: "strict ordering: main overtook the leased version",
    app: {
      ...base,
      config: {
        migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", ordering: "strict" },
      },
    },
    setup: async ({ app, ann, root }) => {
      await ann.call("reserve_migration_slot", { name: "slow" });
      await app.sandbox.commitToMain(
        { [`${MIG_DIR}/007_fast.sql`]: "SELECT 1;\n" },
        "a later migration lands first",
      );
      await write(root, "006_slow.sql");
    },
    expected: ["collision/out_of_order 006_slow.sql"],
  },
  {
    name: "a file the layout cannot read (006.sql) still holds 6",
    setup: async ({ root, bob }) => {
      await (await bob()).call("reserve_migration_slot", { name: "bobs" });
      await write(root, "006.sql");
    },
    expected: ["collision/lease 006.sql", "unparseable 006.sql"],
  },
  {
    name: "production applied the version under another name",
    app: { ...base, prodExtraSql: "INSERT INTO paliad.applied_migrations VALUES (6, 'backups');" },
    setup: async ({ root }) => write(root, "006_other.sql"),
    expected: ["collision/production 006_other.sql"],
  },
  {
    name: "main took the version after the branch started",
    setup: async ({ app, root }) => {
      await app.sandbox.commitToMain({ [`${MIG_DIR}/006_mains.sql`]: "SELECT 1;\n" }, "main moves");
      await write(root, "006_anns.sql");
    },
    expected: ["collision/main 006_anns.sql"],
  },
  {
    name: "two new files of one version on the branch",
    setup: async ({ root }) => {
      await write(root, "006_a.sql");
      await write(root, "006_b.sql");
    },
    expected: ["collision/duplicate 006_a.sql", "collision/duplicate 006_b.sql"],
  },
  {
    name: "duplicates allowed: a new duplicate of an applied version is still red",
    app: {
      ...base,
      config: {
        migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations", duplicates: "allow" },
      },
    },
    setup: async ({ root }) => write(root, "005_again.sql"),
    expected: ["collision/main 005_again.sql", "collision/production 005_again.sql"],
  },
  {
    name: "an applied migration edited",
    setup: async ({ root }) =>
      write(root, "002_create_t2.sql", "CREATE TABLE t2 (id bigint PRIMARY KEY, x int);\n"),
    expected: ["no_edits"],
  },
  {
    name: "an applied migration replaced by a symlink (a type change)",
    setup: async ({ root }) => {
      await rm(join(root, MIG_DIR, "002_create_t2.sql"));
      await symlink("001_create_t1.sql", join(root, MIG_DIR, "002_create_t2.sql"));
    },
    expected: ["no_edits"],
  },
  {
    name: "an applied migration deleted",
    setup: async ({ root }) => rm(join(root, MIG_DIR, "003_create_t3.sql")),
    expected: ["no_edits"],
  },
];

describe("the gate and mai-gate check give one verdict on the same commit", () => {
  const apps: App[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.cleanup()));
  });

  it.each(SCENARIOS.map((s, i) => [s.name, s, i] as const))("%s", async (_, scenario, i) => {
    const app = await createApp(scenario.app ?? base);
    apps.push(app);
    const ann = await app.session(`mai/ann/s${i}`);
    const root = (await ann.workspace.repo()).root;
    await scenario.setup({ app, ann, root, bob: () => app.session(`mai/bob/s${i}`) });
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", scenario.name);

    const gate = structured<{ green: boolean; conditions: Cond[] }>(await ann.call("gate_status", {}));
    const check = await execa(process.execPath, [CLI, "check", "--format", "json", "--no-dry-run"], {
      cwd: root,
      env: { ...app.env, MAI_GATE_LOG: "error" },
      reject: false,
    });
    expect(check.stderr).toBe("");
    const ci = JSON.parse(check.stdout) as { passed: boolean; conditions: Cond[] };
    expect(gate.green).toBe(false);
    expect(check.exitCode).toBe(1);
    expect(ci.passed).toBe(false);
    expect(unmet(gate.conditions)).toEqual(scenario.expected);
    expect(unmet(ci.conditions)).toEqual(scenario.expected);
  });

  it("a branch that breaks no rule passes check, and its gate has no record-independent failure", async () => {
    const app = await createApp(base);
    apps.push(app);
    const ann = await app.session("mai/ann/clean");
    const root = (await ann.workspace.repo()).root;
    await ann.call("reserve_migration_slot", { name: "add_note" });
    await write(root, "006_add_note.sql", "ALTER TABLE t1 ADD COLUMN extra int;\n");
    await app.sandbox.git(root, "add", "-A");
    await app.sandbox.git(root, "commit", "-qm", "clean");
    const gate = structured<{ conditions: Cond[] }>(await ann.call("gate_status", {}));
    const check = await execa(process.execPath, [CLI, "check", "--format", "json"], {
      cwd: root,
      env: { ...app.env, MAI_GATE_LOG: "error" },
      reject: false,
    });
    expect(unmet(gate.conditions)).toEqual([]);
    expect(check.exitCode).toBe(0);
    expect(unmet((JSON.parse(check.stdout) as { conditions: Cond[] }).conditions)).toEqual([]);
  });
});
