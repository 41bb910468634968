import { writeFile } from "node:fs/promises";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCheck } from "../../src/ci/check.js";
import { doctor } from "../../src/deploy/doctor.js";
import type { Connected } from "../helpers/mcp.js";
import { structured, textOf } from "../helpers/mcp.js";
import { createSiteApp, SITE_DIR, startSiteProduction, WORKLOAD_CALLS } from "../helpers/site-prod.js";

interface Finding {
  check: string;
  severity: "red" | "warning" | "not_verified";
  file: string | null;
  line: number | null;
  message: string;
  fix: string | null;
  acknowledged: string | null;
  queries?: { query: string; calls: number | null; source: string }[];
}

interface Report {
  passed: boolean;
  run_id: string;
  files: { path: string; status: string }[];
  site: {
    findings: Finding[];
    notes: string[];
    queries: { sources: Record<string, number>; prepared: number; failing_before: number };
  };
  warnings: string[];
}

type App = Awaited<ReturnType<typeof createSiteApp>>;

let prod: Awaited<ReturnType<typeof startSiteProduction>>;

beforeAll(async () => {
  prod = await startSiteProduction();
}, 180_000);
afterAll(async () => {
  await prod?.stop();
});

/** Reserves a slot as the worker, writes `sql` there and commits it on the worker's branch. */
async function migration(c: Connected, name: string, sql: string): Promise<string> {
  const r = structured<{ leases: { files: string[]; paths: string[] }[] }>(
    await c.call("reserve_migration_slot", { name }),
  );
  const path = r.leases[0]!.paths[0]!;
  await writeFile(path, sql);
  const cwd = c.workspace.cwd;
  await execa("git", ["add", "-A"], { cwd });
  await execa("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", name], { cwd });
  return r.leases[0]!.files[0]!;
}

async function dryRun(app: App, branch: string, name: string, sql: string) {
  const c = await app.session(branch);
  const file = await migration(c, name, sql);
  const result = await c.call("dry_run_migration", {});
  return { c, file, result, r: structured<Report>(result) };
}

const red = (r: Report, check: string) =>
  r.site.findings.filter((f) => f.check === check && f.severity === "red");

describe("live-binary compatibility: the queries production runs, prepared before and after", () => {
  let app: App;
  beforeAll(async () => {
    app = await createSiteApp(prod, {
      config: { dry_run: { queries: ["queries/*.sql"] } },
      files: {
        "queries/users.sql":
          "-- name: GetUserName :one\nSELECT name FROM users WHERE id = @id;\n\n-- name: Legacy :one\nSELECT gone_long_ago FROM users;\n",
      },
    });
  });
  afterAll(() => app.cleanup());

  it("dropping a column the live app queries is red, with the query, its calls and the file; the gate and mai-gate check carry it", async () => {
    const { c, file, result, r } = await dryRun(
      app,
      "mai/ann/drop-email",
      "drop_email",
      "ALTER TABLE users DROP COLUMN email;\n",
    );
    expect(file).toBe(`${SITE_DIR}/004_drop_email.sql`);
    expect(r.passed).toBe(false);
    expect(r.files[0]!.status).toBe("applied");
    const [f, ...rest] = red(r, "live_binary");
    expect(rest).toEqual([]);
    expect(f!.message).toBe(
      `breaks queries the live app runs (and any rollback): \`SELECT email FROM users WHERE id = $1\` (${WORKLOAD_CALLS.email} calls) — column users.email, dropped by 004_drop_email.sql`,
    );
    expect(f!.fix).toContain("Expand/contract");
    expect(f!.queries![0]).toMatchObject({ calls: WORKLOAD_CALLS.email, source: "pg_stat_statements" });
    expect(r.site.queries.sources.pg_stat_statements).toBeGreaterThanOrEqual(3);
    expect(r.site.queries.failing_before).toBeGreaterThanOrEqual(1);
    expect(textOf(result)).toContain("RED [live_binary]");

    const store = await c.workspace.store(null);
    const [record] = await store.dryRuns({ runId: r.run_id, limit: 1 });
    expect(record!.outcome).toBe("failed");
    const gate = structured<{ conditions: { kind: string; passed: boolean | null; detail: string }[] }>(
      await c.call("gate_status", {}),
    );
    const dry = gate.conditions.find((x) => x.kind === "dry_run")!;
    expect(dry.passed).toBe(false);
    expect(dry.detail).toContain("failed at");
    const check = await runCheck(c.workspace, { dryRun: true });
    expect(check.passed).toBe(false);
    expect(
      check.findings.some((x) => x.severity === "error" && x.message.includes("column users.email")),
    ).toBe(true);
  });

  it("a marker naming another object does not accept it", async () => {
    const { r } = await dryRun(
      app,
      "mai/cat/wrong-marker",
      "wrong_marker",
      "-- mai-gate: contract users.name\nALTER TABLE users DROP COLUMN email;\n",
    );
    expect(r.passed).toBe(false);
    expect(red(r, "live_binary")).toHaveLength(1);
  });

  it("the contract marker makes it a warning: the run passes, and the head's lease review and deploy_status show it", async () => {
    const sql = "-- mai-gate: contract users.email\nALTER TABLE users DROP COLUMN email;\n";
    const { file, r } = await dryRun(app, "mai/bea/contract-email", "contract_email", sql);
    expect(r.passed).toBe(true);
    const [f, ...rest] = r.site.findings.filter((x) => x.check === "live_binary");
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      severity: "warning",
      acknowledged: "-- mai-gate: contract users.email",
    });
    expect(r.warnings).toContain(f!.message);

    const head = await app.session("mai/head/review", { MAI_ROLE: "head" });
    const listed = structured<{
      leases: { files: string[]; acknowledged: { marker: string; message: string }[] }[];
    }>(await head.call("list_slot_leases", {}));
    const lease = listed.leases.find((l) => l.files.includes(file))!;
    expect(lease.acknowledged).toEqual([
      expect.objectContaining({ marker: "-- mai-gate: contract users.email" }),
    ]);
    expect(textOf(await head.call("list_slot_leases", {}))).toContain("ACKNOWLEDGED lease");

    await app.sandbox.commitToMain({ [file]: sql }, "merge the contract step");
    const status = structured<{ acknowledged: { file: string; marker: string }[] }>(
      await head.call("deploy_status", { fresh: true }),
    );
    expect(status.acknowledged).toEqual([
      expect.objectContaining({ file, marker: "-- mai-gate: contract users.email" }),
    ]);
    expect(textOf(await head.call("deploy_status", { fresh: true }))).toContain(
      "Next deploy ships an acknowledged risk",
    );
  });

  it("a query file's statement breaks too, named by its sqlc name; a query that already failed before is ignored", async () => {
    const { r } = await dryRun(
      app,
      "mai/dan/rename-name",
      "rename_name",
      "ALTER TABLE users RENAME name TO full_name;\n",
    );
    expect(r.passed).toBe(false);
    const sources = red(r, "live_binary").flatMap((f) => f.queries!.map((q) => q.source));
    expect(sources).toContain("queries/users.sql (GetUserName)");
    expect(red(r, "live_binary")[0]!.message).toContain("column users.name, renamed to full_name by");
    expect(JSON.stringify(r.site.findings)).not.toContain("gone_long_ago");
  });

  it("an additive nullable column stays green: no finding at all", async () => {
    const { r } = await dryRun(
      app,
      "mai/eve/nickname",
      "add_nickname",
      "ALTER TABLE users ADD COLUMN nickname text;\n",
    );
    expect(r.passed).toBe(true);
    expect(r.site.findings.filter((x) => x.check !== "other_branch")).toEqual([]);
    expect(r.site.queries.prepared).toBeGreaterThanOrEqual(4);
  });

  it("mai-gate doctor says whether pg_stat_statements shows the app's statements to the read-only role", async () => {
    const plain = await createSiteApp(prod, { prodRole: "ro_plain" });
    try {
      const check = async (c: Connected) =>
        (await doctor(c.workspace)).find((x) => x.check === "pg_stat_statements")!;
      const good = await check(await app.session("mai/doc/good"));
      expect(good).toMatchObject({ ok: true });
      const bad = await check(await plain.session("mai/doc/plain"));
      expect(bad.ok).toBe(false);
      expect(bad.detail).toContain("pg_read_all_stats");
      expect(bad.fix).toContain("GRANT pg_read_all_stats");
    } finally {
      await plain.cleanup();
    }
  });

  it("without pg_read_all_stats: said once, and the query files and smoke_sql are still prepared", async () => {
    const plain = await createSiteApp(prod, {
      prodRole: "ro_plain",
      config: { dry_run: { queries: ["queries/*.sql"] }, smoke_sql: ["SELECT count(*) FROM users"] },
      files: { "queries/users.sql": "-- name: GetUserEmail :one\nSELECT email FROM users WHERE id = @id;\n" },
    });
    try {
      const { r } = await dryRun(
        plain,
        "mai/fay/drop-email",
        "drop_email",
        "ALTER TABLE users DROP COLUMN email;\n",
      );
      expect(r.passed).toBe(false);
      const about = r.site.notes.filter((n) => n.includes("pg_read_all_stats"));
      expect(about).toHaveLength(1);
      expect(r.site.queries.sources).toEqual({ "query files": 1, smoke_sql: 1 });
      expect(red(r, "live_binary")[0]!.queries![0]!.source).toBe("queries/users.sql (GetUserEmail)");
    } finally {
      await plain.cleanup();
    }
  });
});

describe("data probes: read-only on production, from the parsed statement", () => {
  let app: App;
  beforeAll(async () => {
    app = await createSiteApp(prod, {
      config: { prod: { probe: true }, dry_run: { lock: { max_rows: 10_000_000 } } },
    });
  });
  afterAll(() => app.cleanup());

  it("SET NOT NULL over NULLs is red with the count and three example keys", async () => {
    const { r } = await dryRun(
      app,
      "mai/gus/name",
      "name_not_null",
      "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
    );
    expect(r.passed).toBe(false);
    expect(red(r, "data").map((f) => f.message)).toEqual([
      "SET NOT NULL fails on production's data: 1,000 users have name NULL (e.g. id 50, 100, 150)",
    ]);
  });

  it("a unique index over duplicates, a foreign key over orphans and a failing cast are red", async () => {
    const { r } = await dryRun(
      app,
      "mai/hal/constraints",
      "constraints",
      [
        "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);",
        "ALTER TABLE users ADD CONSTRAINT users_org FOREIGN KEY (org_id) REFERENCES orgs (id);",
        "ALTER TABLE users ALTER COLUMN age TYPE integer USING age::integer;",
        "",
      ].join("\n"),
    );
    expect(r.passed).toBe(false);
    const messages = red(r, "data").map((f) => f.message);
    expect(messages).toContain(
      "CREATE UNIQUE INDEX fails on production's data: 20 users share email with another row (e.g. id 1, 2, 3)",
    );
    expect(messages).toContain(
      "ADD FOREIGN KEY fails on production's data: 50 users have org_id with no matching row in orgs (e.g. id 7, 1007, 2007)",
    );
    expect(messages.find((m) => m.startsWith("ALTER COLUMN … TYPE"))).toContain(
      "[22P02] invalid text representation",
    );
    // Only keys leave production: never a value of another column.
    expect(JSON.stringify(r.site)).not.toContain("unknown");
    expect(JSON.stringify(r.site)).not.toContain("@example.com");
  });

  it("green when production's rows pass; a backfill before the check is not verified, neither red nor green", async () => {
    const ok = await dryRun(
      app,
      "mai/ida/kind",
      "kind_not_null",
      "ALTER TABLE events ALTER COLUMN kind SET NOT NULL;\n",
    );
    expect(ok.r.passed).toBe(true);
    expect(ok.r.site.findings).toEqual([]);
    const backfilled = await dryRun(
      app,
      "mai/jon/backfill",
      "backfill_name",
      "UPDATE users SET name = '' WHERE name IS NULL;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
    );
    expect(backfilled.r.passed).toBe(true);
    expect(backfilled.r.site.findings).toEqual([
      expect.objectContaining({ check: "data", severity: "not_verified" }),
    ]);
  });

  it("the branch's SQL never runs on production: a CHECK calling a function is not verified, and production never saw it", async () => {
    const { r } = await dryRun(
      app,
      "mai/kim/sneaky",
      "sneaky_check",
      "ALTER TABLE events ADD CONSTRAINT sneaky CHECK (pg_sleep(3) IS NOT NULL);\n",
    );
    expect(r.site.findings).toEqual([expect.objectContaining({ check: "data", severity: "not_verified" })]);
    const db = new pg.Client({ connectionString: prod.dsn("postgres") });
    await db.connect();
    try {
      const seen = await db.query(
        "SELECT query FROM pg_stat_statements WHERE query ILIKE '%pg_sleep%' AND query NOT ILIKE '%pg_stat_statements%'",
      );
      expect(seen.rows).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it("a probe that times out is not verified and says so; probes are off unless configured", async () => {
    const slow = await createSiteApp(prod, {
      config: { prod: { probe: true, probe_timeout_ms: 1 }, dry_run: { lock: { max_rows: 10_000_000 } } },
    });
    const off = await createSiteApp(prod, { config: { dry_run: { lock: { max_rows: 10_000_000 } } } });
    try {
      const t = await dryRun(
        slow,
        "mai/lee/name",
        "name_not_null",
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
      );
      expect(t.r.passed).toBe(true);
      const [f] = t.r.site.findings;
      expect(f).toMatchObject({ check: "data", severity: "not_verified" });
      expect(f!.message).toContain("timed out after 1 ms");
      const o = await dryRun(
        off,
        "mai/mo/name",
        "name_not_null",
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n",
      );
      expect(o.r.site.findings.filter((x) => x.check === "data")).toEqual([]);
    } finally {
      await slow.cleanup();
      await off.cleanup();
    }
  });
});

describe("lock impact: the clone's locks and rewrites, weighed by production's table sizes", () => {
  let app: App;
  beforeAll(async () => {
    app = await createSiteApp(prod, { config: { dry_run: { lock: { max_rows: 10_000 } } } });
  });
  afterAll(() => app.cleanup());

  it("a rewrite of a large table under ACCESS EXCLUSIVE is red with its size; the fix names the safe pattern", async () => {
    const { r } = await dryRun(
      app,
      "mai/ned/retype",
      "org_id_text",
      "ALTER TABLE users ALTER COLUMN org_id TYPE text;\n",
    );
    expect(r.passed).toBe(false);
    const [f] = red(r, "lock");
    expect(f!.message).toMatch(
      /^ACCESS EXCLUSIVE on users \(50,000 rows, [\d.]+ MB\) with a table rewrite \(ALTER COLUMN … TYPE\): requests touching users wait for all of it$/,
    );
    expect(f!.fix).toContain("lock_timeout");
  });

  it("a plain index build is red (SHARE blocks writes); CONCURRENTLY, a small table or a lock marker are not", async () => {
    const plain = await dryRun(
      app,
      "mai/ola/index",
      "index_name",
      "CREATE INDEX users_name ON users (name);\n",
    );
    expect(red(plain.r, "lock")[0]!.message).toContain("SHARE on users (50,000 rows");
    expect(red(plain.r, "lock")[0]!.fix).toContain("CREATE INDEX CONCURRENTLY");
    const concurrent = await dryRun(
      app,
      "mai/pat/index",
      "index_name_concurrently",
      "CREATE INDEX CONCURRENTLY users_name ON users (name);\n",
    );
    expect(concurrent.r.passed).toBe(true);
    expect(concurrent.r.site.findings.filter((x) => x.check === "lock")).toEqual([]);
    const small = await dryRun(
      app,
      "mai/quin/events",
      "events_kind",
      "ALTER TABLE events ALTER COLUMN kind TYPE varchar(100);\n",
    );
    expect(small.r.site.findings.filter((x) => x.check === "lock")).toEqual([]);
    const marked = await dryRun(
      app,
      "mai/rae/window",
      "org_id_text_window",
      "-- mai-gate: lock users\nALTER TABLE users ALTER COLUMN org_id TYPE text;\n",
    );
    expect(marked.r.passed).toBe(true);
    expect(marked.r.site.findings.filter((x) => x.check === "lock")).toEqual([
      expect.objectContaining({ severity: "warning", acknowledged: "-- mai-gate: lock users" }),
    ]);
  });
});

describe("other open branches: yours after theirs", () => {
  it("warns 'if mai/bob/x merges first, yours fails' and stays green; none when other_branches is 0", async () => {
    const app = await createSiteApp(prod);
    const none = await createSiteApp(prod, { config: { dry_run: { other_branches: 0 } } });
    try {
      for (const a of [app, none]) {
        const bob = await a.session("mai/bob/x");
        await migration(bob, "drop_org_name", "ALTER TABLE orgs DROP COLUMN name;\n");
      }
      const { r } = await dryRun(app, "mai/ann/y", "upper_org_name", "UPDATE orgs SET name = upper(name);\n");
      expect(r.passed).toBe(true);
      const [w] = r.site.findings.filter((f) => f.check === "other_branch");
      expect(w).toMatchObject({ severity: "warning", file: `${SITE_DIR}/005_upper_org_name.sql` });
      expect(w!.message).toContain("if mai/bob/x merges first, yours fails: 005_upper_org_name.sql:1:");
      expect(w!.message).toContain('column "name" does not exist');
      expect(w!.message).toContain("004_drop_org_name.sql");
      expect(r.warnings).toContain(w!.message);
      const quiet = await dryRun(
        none,
        "mai/ann/y",
        "upper_org_name",
        "UPDATE orgs SET name = upper(name);\n",
      );
      expect(quiet.r.site.findings).toEqual([]);
    } finally {
      await app.cleanup();
      await none.cleanup();
    }
  });
});
