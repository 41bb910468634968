import { describe, expect, it } from "vitest";
import { indexSchemaChanges } from "../../../src/dryrun/explain.js";
import { acknowledging, readAcks } from "../../../src/site/acks.js";
import { dataFindings } from "../../../src/site/data-findings.js";
import { liveBinaryFindings } from "../../../src/site/live-binary.js";
import { formatRows, formatSize, lockFindings, modeName } from "../../../src/site/lock-impact.js";
import type { StatementImpact } from "../../../src/site/lock-watch.js";
import type { ProbePlan } from "../../../src/site/probe-plans.js";
import type { AppQuery } from "../../../src/site/types.js";

const FILE = "db/migrations/126_drop_email.sql";
const DROP = "ALTER TABLE users DROP COLUMN email;\n";

async function changesOf(sql: string) {
  return new Map([[FILE, await indexSchemaChanges([{ file: "126_drop_email.sql", version: 126, sql }])]]);
}

const queries: AppQuery[] = [
  { text: "SELECT id FROM users WHERE email = $1", calls: 900, source: "pg_stat_statements" },
  { text: "SELECT email FROM users WHERE id = $1", calls: 31_200, source: "pg_stat_statements" },
  { text: "SELECT name FROM users", calls: 5, source: "pg_stat_statements" },
];

describe("acknowledgement markers", () => {
  it("reads contract and lock markers with their objects; ignores other comments", () => {
    const acks = readAcks(
      "-- mai-gate: contract users.email, users.legacy_id\n--mai-gate:LOCK public.users\n-- mai-gate contract x\nSELECT 1;\n-- mai-gate: contract\n",
    );
    expect(acks).toEqual([
      {
        kind: "contract",
        objects: ["users.email", "users.legacy_id"],
        line: 1,
        text: "-- mai-gate: contract users.email, users.legacy_id",
      },
      { kind: "lock", objects: ["public.users"], line: 2, text: "--mai-gate:LOCK public.users" },
    ]);
  });

  it("a marker accepts its object, schema-qualified or not, and * accepts all; another object is not accepted", () => {
    const acks = readAcks("-- mai-gate: contract public.users.email\n-- mai-gate: lock *\n");
    expect(acknowledging(acks, "contract", "users.email")?.line).toBe(1);
    expect(acknowledging(acks, "contract", "users.name")).toBeNull();
    expect(acknowledging(acks, "contract", "email")?.line).toBe(1);
    expect(acknowledging(acks, "lock", "orders")?.line).toBe(2);
    expect(acknowledging(readAcks("-- mai-gate: contract email\n"), "contract", "users.email")).toBeNull();
    expect(acknowledging(readAcks("-- mai-gate: lock users\n"), "contract", "users")).toBeNull();
  });
});

describe("live-binary compatibility", () => {
  const outcome = {
    failingBefore: [2],
    broken: [
      { index: 0, path: FILE, sqlstate: "42703", message: 'column "email" does not exist' },
      { index: 1, path: FILE, sqlstate: "42703", message: 'column "email" does not exist' },
    ],
    error: null,
  };

  it("a query that prepared before and fails after is red, most-called first, naming the object and the file", async () => {
    const [f, ...rest] = liveBinaryFindings({
      queries,
      outcome,
      changes: await changesOf(DROP),
      acks: new Map(),
    });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      check: "live_binary",
      severity: "red",
      file: FILE,
      line: 1,
      acknowledged: null,
    });
    expect(f!.message).toBe(
      "breaks queries the live app runs (and any rollback): `SELECT email FROM users WHERE id = $1` (31,200 calls) and 1 more — column users.email, dropped by 126_drop_email.sql",
    );
    expect(f!.fix).toContain("Expand/contract");
    expect(f!.fix).toContain("-- mai-gate: contract users.email");
    expect(f!.queries?.map((q) => q.calls)).toEqual([31_200, 900]);
  });

  it("the file's contract marker for that object makes it a warning; a marker for another object does not", async () => {
    const marked = `-- mai-gate: contract users.email\n${DROP}`;
    const acks = new Map([[FILE, readAcks(marked)]]);
    const [f] = liveBinaryFindings({ queries, outcome, changes: await changesOf(marked), acks });
    expect(f).toMatchObject({ severity: "warning", acknowledged: "-- mai-gate: contract users.email" });
    const other = new Map([[FILE, readAcks("-- mai-gate: contract users.name\n")]]);
    expect(
      liveBinaryFindings({ queries, outcome, changes: await changesOf(DROP), acks: other })[0]!.severity,
    ).toBe("red");
  });

  it("a marker accepts only for its own file: the same marker in another file of the branch does not", async () => {
    const acks = new Map([["db/migrations/127_other.sql", readAcks("-- mai-gate: contract users.email\n")]]);
    const [f] = liveBinaryFindings({ queries, outcome, changes: await changesOf(DROP), acks });
    expect(f).toMatchObject({ severity: "red", acknowledged: null });
  });

  it("a rename is named as one; queries already failing before are not findings", async () => {
    const rename = "ALTER TABLE users RENAME COLUMN email TO mail;\n";
    const [f] = liveBinaryFindings({ queries, outcome, changes: await changesOf(rename), acks: new Map() });
    expect(f!.message).toContain("column users.email, renamed to mail by 126_drop_email.sql");
    const none = liveBinaryFindings({
      queries,
      outcome: { ...outcome, broken: [] },
      changes: new Map(),
      acks: new Map(),
    });
    expect(none).toEqual([]);
  });

  it("a break the message names no object for still names the file, and only * accepts it", () => {
    const typed = {
      ...outcome,
      broken: [
        { index: 1, path: FILE, sqlstate: "42883", message: "operator does not exist: integer = text" },
      ],
    };
    const [f] = liveBinaryFindings({ queries, outcome: typed, changes: new Map(), acks: new Map() });
    expect(f!.message).toContain("operator does not exist: integer = text, after 126_drop_email.sql");
    const star = new Map([[FILE, readAcks("-- mai-gate: contract *\n")]]);
    expect(liveBinaryFindings({ queries, outcome: typed, changes: new Map(), acks: star })[0]!.severity).toBe(
      "warning",
    );
  });
});

describe("lock impact", () => {
  const impact = (over: Partial<StatementImpact> = {}): StatementImpact => ({
    path: FILE,
    line: 2,
    table: "public.users",
    mode: "AccessExclusiveLock",
    observed: true,
    work: "rewrite",
    what: "ALTER COLUMN … TYPE",
    ...over,
  });
  const sizes = [{ table: "public.users", rows: 2_100_000, bytes: 850 * 1024 * 1024 }];

  it("a rewrite under ACCESS EXCLUSIVE on a table above max_rows is red, with sizes and the safe pattern", () => {
    const [f] = lockFindings({ impacts: [impact()], sizes, acks: new Map(), maxRows: 100_000 });
    expect(f).toMatchObject({ check: "lock", severity: "red", file: FILE, line: 2 });
    expect(f!.message).toBe(
      "ACCESS EXCLUSIVE on users (2.1 M rows, 850 MB) with a table rewrite (ALTER COLUMN … TYPE): requests touching users wait for all of it",
    );
    expect(f!.fix).toContain("lock_timeout");
    expect(f!.fix).toContain("batches");
  });

  it("an index build under SHARE blocks writes; the fix names CREATE INDEX CONCURRENTLY", () => {
    const [f] = lockFindings({
      impacts: [impact({ mode: "ShareLock", work: "index build", what: "CREATE INDEX" })],
      sizes,
      acks: new Map(),
      maxRows: 100_000,
    });
    expect(f!.message).toContain(
      "SHARE on users (2.1 M rows, 850 MB) for an index build (CREATE INDEX): writes to users wait",
    );
    expect(f!.fix).toContain("CREATE INDEX CONCURRENTLY");
  });

  it("is not a finding at or below max_rows, for a table production lacks or never analysed, or under a non-blocking mode", () => {
    const small = [{ table: "public.users", rows: 100_000, bytes: 1 }];
    expect(lockFindings({ impacts: [impact()], sizes: small, acks: new Map(), maxRows: 100_000 })).toEqual(
      [],
    );
    expect(lockFindings({ impacts: [impact()], sizes: [], acks: new Map(), maxRows: 0 })).toEqual([]);
    const unknown = [{ table: "public.users", rows: null, bytes: 8192 }];
    expect(lockFindings({ impacts: [impact()], sizes: unknown, acks: new Map(), maxRows: 0 })).toEqual([]);
    const weak = impact({
      mode: "ShareUpdateExclusiveLock",
      work: "validation",
      what: "VALIDATE CONSTRAINT",
    });
    expect(lockFindings({ impacts: [weak], sizes, acks: new Map(), maxRows: 0 })).toEqual([]);
  });

  it("the file's lock marker makes it a warning", () => {
    const acks = new Map([[FILE, readAcks("-- mai-gate: lock users\n")]]);
    const [f] = lockFindings({ impacts: [impact()], sizes, acks, maxRows: 100_000 });
    expect(f).toMatchObject({ severity: "warning", acknowledged: "-- mai-gate: lock users" });
  });

  it("formats modes, rows and sizes as people read them", () => {
    expect(modeName("ShareRowExclusiveLock")).toBe("SHARE ROW EXCLUSIVE");
    expect(formatRows(50_000)).toBe("50,000");
    expect(formatRows(2_149_000)).toBe("2.1 M");
    expect(formatSize(4 * 1024 * 1024)).toBe("4.0 MB");
    expect(formatSize(850 * 1024 * 1024)).toBe("850 MB");
  });
});

describe("data probe findings", () => {
  const base = { path: FILE, line: 3, table: { schema: null, name: "users" } };
  const notNull: ProbePlan = {
    ...base,
    what: "SET NOT NULL",
    kind: "rows",
    predicate: 't."name" IS NULL',
    describe: "have name NULL",
    fix: "backfill",
  };

  it("violations are red with the count and up to three example keys", () => {
    const [f] = dataFindings([
      {
        plan: notNull,
        result: { status: "violations", count: 1000, keys: ["50", "100", "150"], keyColumns: ["id"] },
      },
    ]);
    expect(f).toMatchObject({ check: "data", severity: "red", file: FILE, line: 3 });
    expect(f!.message).toBe(
      "SET NOT NULL fails on production's data: 1,000 users have name NULL (e.g. id 50, 100, 150)",
    );
  });

  it("a probe that timed out is not verified, neither green nor red; clean and absent are no findings", () => {
    const findings = dataFindings([
      {
        plan: notNull,
        result: { status: "not_verified", reason: "the probe timed out after 1 ms (prod.probe_timeout_ms)" },
      },
      { plan: notNull, result: { status: "clean" } },
      { plan: notNull, result: { status: "absent" } },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: "not_verified", fix: null });
    expect(findings[0]!.message).toContain("not verified against production's data: the probe timed out");
  });

  it("a failed conversion says its SQLSTATE by name, never the value; a composite key is shown whole", () => {
    const cast: ProbePlan = {
      ...base,
      what: "ALTER COLUMN … TYPE",
      kind: "cast",
      column: "age",
      type: '"pg_catalog"."int4"',
      using: null,
      typmodLength: null,
    };
    const [f] = dataFindings([{ plan: cast, result: { status: "cast_fails", sqlstate: "22P02" } }]);
    expect(f!.message).toBe(
      "ALTER COLUMN … TYPE fails on production's data: converting users.age fails on at least one row ([22P02] invalid text representation)",
    );
    const [g] = dataFindings([
      {
        plan: notNull,
        result: { status: "violations", count: 2, keys: ["(1,2)", "(1,3)"], keyColumns: ["a", "b"] },
      },
    ]);
    expect(g!.message).toContain("(e.g. (a, b) (1,2), (1,3))");
  });
});
