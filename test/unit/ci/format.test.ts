import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { formatGithub, formatHuman, formatJunit } from "../../../src/ci/format.js";
import type { CheckFinding, CheckResult, CheckRun } from "../../../src/ci/types.js";

const OTHER = "internal/db/migrations/123_other.sql";
const NEXT = "internal/db/migrations/124_next.sql";
const COLLISION = 'production applied 123 as "backups"; this branch names it "other"';

function run(
  check: CheckRun["check"],
  status: CheckRun["status"],
  detail: string,
  files: string[] = [],
): CheckRun {
  return { check, status, detail, files, durationMs: 1200 };
}

function finding(over: Partial<CheckFinding> & Pick<CheckFinding, "check" | "message">): CheckFinding {
  return { severity: "error", file: null, line: null, ...over };
}

const passed: CheckResult = {
  passed: true,
  conditions: [],
  context: ["main origin/main at 1a2b3c4, production: checked"],
  runs: [
    run("catalog", "passed", "2 migrations, numbering consistent", [OTHER, NEXT]),
    run("history", "passed", "production at 122, names agree"),
  ],
  findings: [],
};

const failed: CheckResult = {
  passed: false,
  conditions: [],
  context: ["main origin/main at 1a2b3c4"],
  runs: [
    run("catalog", "passed", "2 migrations, numbering consistent", [OTHER, NEXT]),
    run("history", "failed", "1 version named differently in production", [OTHER, NEXT]),
    run("dry_run", "skipped", "no pending migrations"),
  ],
  findings: [finding({ check: "history", file: OTHER, line: 1, message: COLLISION })],
};

interface XmlCase {
  classname: string;
  name: string;
  time: string;
  failure?: { message: string; type: string; "#text": string }[];
  skipped?: { message: string }[];
  "system-out"?: string;
}
interface XmlSuite {
  name: string;
  tests: string;
  failures: string;
  skipped: string;
  time: string;
  testcase: XmlCase[];
}
interface XmlDoc {
  testsuites: {
    name: string;
    tests: string;
    failures: string;
    skipped: string;
    time: string;
    testsuite: XmlSuite[];
  };
}

function parseJunit(xml: string): XmlDoc["testsuites"] {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    parseAttributeValue: false,
    parseTagValue: false,
    htmlEntities: true,
    isArray: (name, _path, _leaf, isAttribute) =>
      !isAttribute && ["testsuite", "testcase", "failure", "skipped"].includes(name),
  });
  return (parser.parse(xml) as XmlDoc).testsuites;
}

function suite(doc: XmlDoc["testsuites"], name: string): XmlSuite {
  const found = doc.testsuite.find((s) => s.name === name);
  if (!found) throw new Error(`no testsuite ${name}`);
  return found;
}

describe("formatHuman", () => {
  it("summarises a pass", () => {
    expect(formatHuman(passed)).toBe(
      [
        "main origin/main at 1a2b3c4, production: checked",
        "✓ catalog  2 migrations, numbering consistent",
        "✓ history  production at 122, names agree",
        "",
        "mai-gate check: PASSED",
        "",
      ].join("\n"),
    );
  });

  it("lists runs, findings as path:line: message, and the number of errors", () => {
    expect(formatHuman(failed)).toBe(
      [
        "main origin/main at 1a2b3c4",
        "✓ catalog  2 migrations, numbering consistent",
        "✗ history  1 version named differently in production",
        "– dry_run  no pending migrations",
        "",
        `${OTHER}:1: ${COLLISION}`,
        "",
        "mai-gate check: FAILED (1 error)",
        "",
      ].join("\n"),
    );
  });

  it("indents continuation lines and marks warnings", () => {
    const text = formatHuman({
      passed: true,
      conditions: [],
      context: [],
      runs: [run("dry_run", "passed", "1 migration applied")],
      findings: [
        finding({ check: "dry_run", severity: "warning", file: NEXT, message: "slow\nlocks table" }),
      ],
    });
    expect(text).toContain(`${NEXT}: warning: slow\n    locks table\n`);
    expect(text.endsWith("mai-gate check: PASSED (1 warning)\n")).toBe(true);
  });
});

describe("formatGithub", () => {
  it("prints only a notice when everything passed", () => {
    expect(formatGithub(passed)).toBe("::notice::mai-gate check: PASSED\n");
  });

  it("annotates the colliding migration on its file and line", () => {
    expect(formatGithub(failed).split("\n")).toEqual([
      `::error file=${OTHER},line=1,title=mai-gate history::${COLLISION}`,
      "::error::mai-gate check: FAILED (1 error)",
      "",
    ]);
  });

  it("escapes data and property values per the runner's rules", () => {
    const result: CheckResult = {
      passed: false,
      conditions: [],
      context: [],
      runs: [],
      findings: [
        finding({
          check: "dry_run",
          severity: "warning",
          file: "internal/db/migrations/125_a,b:c.sql",
          line: 7,
          message: "100% sure: a, b\r\nc",
        }),
        finding({ check: "main_pending", message: "::set-env name=X::y\n::error::forged" }),
        finding({ check: "catalog", file: NEXT, message: "no line" }),
      ],
    };
    expect(formatGithub(result).split("\n")).toEqual([
      "::warning file=internal/db/migrations/125_a%2Cb%3Ac.sql,line=7,title=mai-gate dry_run::100%25 sure: a, b%0D%0Ac",
      "::error title=mai-gate main_pending::::set-env name=X::y%0A::error::forged",
      `::error file=${NEXT},title=mai-gate catalog::no line`,
      "::error::mai-gate check: FAILED (2 errors)",
      "",
    ]);
  });
});

describe("formatJunit", () => {
  it("makes one passing test case per file, or one for the check", () => {
    const doc = parseJunit(formatJunit(passed));
    expect(doc).toMatchObject({
      name: "mai-gate check",
      tests: "3",
      failures: "0",
      skipped: "0",
      time: "2.400",
    });
    expect(doc.testsuite.map((s) => s.name)).toEqual(["catalog", "history"]);
    expect(suite(doc, "catalog").testcase.map((c) => [c.classname, c.name, c.time])).toEqual([
      ["mai-gate.catalog", OTHER, "0.600"],
      ["mai-gate.catalog", NEXT, "0.600"],
    ]);
    expect(suite(doc, "history").testcase).toEqual([
      { classname: "mai-gate.history", name: "history", time: "1.200" },
    ]);
  });

  it("fails the file's test case and skips skipped runs", () => {
    const doc = parseJunit(formatJunit(failed));
    expect(doc).toMatchObject({ tests: "5", failures: "1", skipped: "1" });
    const history = suite(doc, "history");
    expect(history).toMatchObject({ tests: "2", failures: "1", skipped: "0" });
    const [other, next] = history.testcase;
    expect(other?.name).toBe(OTHER);
    expect(other?.failure).toEqual([
      { message: COLLISION, type: "history", "#text": `${OTHER}:1: ${COLLISION}` },
    ]);
    expect(next?.name).toBe(NEXT);
    expect(next?.failure).toBeUndefined();
    const dryRun = suite(doc, "dry_run");
    expect(dryRun).toMatchObject({ tests: "1", failures: "0", skipped: "1" });
    expect(dryRun.testcase[0]).toMatchObject({
      name: "dry_run",
      skipped: [{ message: "no pending migrations" }],
    });
  });

  it("puts findings on files the run did not list into a case named after the check", () => {
    const doc = parseJunit(
      formatJunit({
        passed: false,
        conditions: [],
        context: [],
        runs: [run("collision", "failed", "1 collision", [NEXT]), run("catalog", "failed", "could not read")],
        findings: [
          finding({ check: "collision", file: OTHER, line: 3, message: "also on main" }),
          finding({ check: "collision", message: "second" }),
          finding({ check: "main_pending", message: "no run for me" }),
        ],
      }),
    );
    expect(doc).toMatchObject({ tests: "4", failures: "3" });
    const collisions = suite(doc, "collision").testcase;
    expect(collisions.map((c) => [c.name, c.failure?.length ?? 0])).toEqual([
      [NEXT, 0],
      ["collision", 1],
    ]);
    expect(collisions[1]?.failure?.[0]).toMatchObject({
      message: "also on main (and 1 more)",
      "#text": `${OTHER}:3: also on main\ncollision: second`,
    });
    // A failed run without findings still fails; a finding without a run still shows.
    expect(suite(doc, "catalog").testcase[0]?.failure?.[0]?.message).toBe("could not read");
    expect(suite(doc, "main_pending").testcase[0]?.failure?.[0]?.["#text"]).toBe(
      "main_pending: no run for me",
    );
  });

  it("escapes XML-hostile text and drops characters XML 1.0 forbids", () => {
    const hostile = `a < b && c > "d" 'e'\u0001 end`;
    const file = "internal/db/migrations/126_<&>.sql";
    const xml = formatJunit({
      passed: false,
      conditions: [],
      context: [],
      runs: [run("dry_run", "failed", "x", [file])],
      findings: [finding({ check: "dry_run", file, line: 2, message: hostile })],
    });
    expect(xml).not.toContain("\u0001");
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    const clean = `a < b && c > "d" 'e' end`;
    const testcase = suite(parseJunit(xml), "dry_run").testcase[0];
    expect(testcase?.name).toBe(file);
    expect(testcase?.failure).toEqual([{ message: clean, type: "dry_run", "#text": `${file}:2: ${clean}` }]);
  });
});
