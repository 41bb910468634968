import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { looksLikeGo, MAX_CHARS, parseGoOutput } from "../../../src/suite/go-output.js";

// Recorded with go1.19.8; see test/fixtures/go/README.md for the module and the commands.
function fixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/go/${name}`, import.meta.url), "utf8");
}

const APP = "example.com/app";
const TMP = "/tmp/gofix.fKxX";

const compileErrors = [
  {
    file: "broken/a.go",
    line: 5,
    column: 9,
    message: "undefined: missingName",
    package: `${APP}/broken`,
  },
  {
    file: "broken/b.go",
    line: 5,
    column: 14,
    message: 'cannot use "three" (untyped string constant) as int value in variable declaration',
    package: `${APP}/broken`,
  },
];

const vetError = {
  file: "vetbad/vet.go",
  line: 7,
  column: 9,
  message: "fmt.Sprintf format %d has arg n of wrong type string",
  package: `${APP}/vetbad`,
};

const calc = `${APP}/calc`;
const parA = { name: "TestParA", package: `${APP}/par`, file: "par_test.go", line: 7, message: "A starts" };
const parB = { name: "TestParB", package: `${APP}/par`, file: "par_test.go", line: 13, message: "B failed" };

/** The failing tests in order of appearance; the two parallel tests finished in either order. */
function failingTests(parallel: (typeof parA)[]) {
  return [
    { name: "TestMul", package: calc, file: "calc_test.go", line: 7, message: "Mul(2, 3) = 5, want 6" },
    {
      name: "TestDiv",
      package: calc,
      file: "calc_test.go",
      line: 15,
      message: "Div(6, 3): expected an error for this example",
    },
    { name: "TestTable", package: calc, file: null, line: null, message: null },
    {
      name: "TestTable/two_by_three",
      package: calc,
      file: "calc_test.go",
      line: 27,
      message: "Mul(2, 3) = 5",
    },
    {
      name: "TestOutOfRange",
      package: `${APP}/crash`,
      file: `${TMP}/crash/crash_test.go`,
      line: 13,
      message: "panic: runtime error: index out of range [5] with length 2",
    },
    {
      name: "TestSpawn",
      package: `${APP}/gopanic`,
      file: `${TMP}/gopanic/spawn_test.go`,
      line: 15,
      message: "panic: assignment to entry in nil map",
    },
    ...parallel,
  ];
}

const failingPackages = ["broken", "calc", "crash", "gopanic", "par", "vetbad"].map((p) => `${APP}/${p}`);

describe("parseGoOutput on recorded output", () => {
  it("reads go build ./...", () => {
    const text = fixture("build-failed.txt");
    expect(parseGoOutput(text)).toEqual({
      failingTests: [],
      failingPackages: [],
      compileErrors,
      passedPackages: [],
    });
    expect(looksLikeGo(text)).toBe(true);
  });

  it("reads go test ./...", () => {
    const report = parseGoOutput(fixture("test-failed.txt"));
    expect(report.failingTests).toEqual(failingTests([parB, parA]));
    expect(report.failingPackages).toEqual(failingPackages);
    expect(report.compileErrors).toEqual([...compileErrors, vetError]);
    expect(report.passedPackages).toEqual([`${APP}/good`]);
  });

  it("reads go test -v ./... (log lines before each --- FAIL)", () => {
    const report = parseGoOutput(fixture("test-failed-verbose.txt"));
    expect(report.failingTests).toEqual(failingTests([parA, parB]));
    expect(report.failingPackages).toEqual(failingPackages);
    expect(report.compileErrors).toEqual([...compileErrors, vetError]);
    expect(report.passedPackages).toEqual([`${APP}/good`]);
  });

  it("reads a passing run", () => {
    const text = fixture("test-passed.txt");
    expect(parseGoOutput(text)).toEqual({
      failingTests: [],
      failingPackages: [],
      compileErrors: [],
      passedPackages: [`${APP}/good`],
    });
    expect(looksLikeGo(text)).toBe(true);
  });

  it("deduplicates when the same run is read twice", () => {
    const once = parseGoOutput(fixture("test-failed.txt"));
    const twice = parseGoOutput(`${fixture("test-failed.txt")}\n${fixture("test-failed-verbose.txt")}`);
    expect(twice).toEqual(once);
  });
});

describe("parseGoOutput on inline output", () => {
  it("tolerates CRLF and ANSI colour codes", () => {
    const text = [
      "=== RUN   TestX",
      "    x_test.go:3: boom",
      "\u001b[31m--- FAIL\u001b[0m: TestX (0.00s)",
      "FAIL",
      `\u001b[1;31mFAIL\u001b[0m\t${APP}/x\t0.010s`,
      `\u001b[32mok\u001b[0m  \t${APP}/y\t(cached)`,
      "",
    ].join("\r\n");
    expect(parseGoOutput(text)).toEqual({
      failingTests: [{ name: "TestX", package: `${APP}/x`, file: "x_test.go", line: 3, message: "boom" }],
      failingPackages: [`${APP}/x`],
      compileErrors: [],
      passedPackages: [`${APP}/y`],
    });
  });

  it("reads go vet ./... (seen with go1.19.8)", () => {
    const text = [
      `# ${APP}/broken`,
      "vet: broken/a.go:5:9: undeclared name: missingName",
      `# ${APP}/vetbad`,
      "vetbad/vet.go:7:9: fmt.Sprintf format %d has arg n of wrong type string",
    ].join("\n");
    expect(parseGoOutput(text).compileErrors).toEqual([
      {
        file: "broken/a.go",
        line: 5,
        column: 9,
        message: "undeclared name: missingName",
        package: `${APP}/broken`,
      },
      vetError,
    ]);
  });

  it("reads go build run inside a package (./ paths)", () => {
    const text = `# ${APP}/broken\n./a.go:5:9: undefined: missingName\n`;
    expect(parseGoOutput(text).compileErrors).toEqual([
      { file: "./a.go", line: 5, column: 9, message: "undefined: missingName", package: `${APP}/broken` },
    ]);
  });

  it("reads a [setup failed] package line", () => {
    const text = `# ${APP}/missing\nm.go:3:8: no required module provides package ${APP}/nope\nFAIL\t${APP}/missing [setup failed]\n`;
    const report = parseGoOutput(text);
    expect(report.failingPackages).toEqual([`${APP}/missing`]);
    expect(report.compileErrors[0]).toMatchObject({ file: "m.go", line: 3, package: `${APP}/missing` });
  });

  it("names the running test of a timeout from the goroutine traces (seen with go1.19.8)", () => {
    const text = [
      "panic: test timed out after 1s",
      "",
      "goroutine 17 [running]:",
      "testing.(*M).startAlarm.func1()",
      "\t/usr/lib/go-1.19/src/testing/testing.go:2036 +0x8e",
      "created by time.goFunc",
      "\t/usr/lib/go-1.19/src/time/sleep.go:176 +0x32",
      "",
      "goroutine 6 [sleep]:",
      "time.Sleep(0x12a05f200)",
      "\t/usr/lib/go-1.19/src/runtime/time.go:195 +0x135",
      `${APP}/slow.TestSlow(0x0?)`,
      "\t/tmp/gotimeout.NM8N/slow/slow_test.go:9 +0x25",
      "testing.tRunner(0xc000007860, 0x52f2e0)",
      "\t/usr/lib/go-1.19/src/testing/testing.go:1446 +0x10b",
      `FAIL\t${APP}/slow\t1.005s`,
      "FAIL",
    ].join("\n");
    expect(parseGoOutput(text).failingTests).toEqual([
      {
        name: "TestSlow",
        package: `${APP}/slow`,
        file: "/tmp/gotimeout.NM8N/slow/slow_test.go",
        line: 9,
        message: "panic: test timed out after 1s",
      },
    ]);
  });

  it("does not take an unindented file.go:N: line outside a # header for a compile error", () => {
    expect(parseGoOutput("main.go:12: hello from log.Lshortfile\n").compileErrors).toEqual([]);
  });

  it("reads only the last MAX_CHARS characters", () => {
    const filler = `${"x".repeat(99)}\n`.repeat(Math.ceil(MAX_CHARS / 100) + 10);
    const text = `--- FAIL: TestLost (0.00s)\n${filler}--- FAIL: TestKept (0.00s)\nFAIL\t${APP}/z\t0.1s\n`;
    const names = parseGoOutput(text).failingTests.map((t) => t.name);
    expect(names).toEqual(["TestKept"]);
  });
});

describe("looksLikeGo", () => {
  const others = {
    tsc: "src/a.ts(12,5): error TS2322: Type 'string' is not assignable to type 'number'.\n",
    jest: "FAIL  src/a.test.ts\n  ● sums › adds\n\nTests: 1 failed, 3 passed\n",
    pytest: "FAILED tests/test_a.py::test_add - assert 3 == 4\n1 failed, 2 passed in 0.12s\n",
    eslint: "/work/src/a.ts\n  3:7  error  'x' is assigned a value but never used  no-unused-vars\n",
    empty: "",
  };

  for (const [tool, text] of Object.entries(others)) {
    it(`is false for ${tool} output, which gives an empty report`, () => {
      expect(looksLikeGo(text)).toBe(false);
      expect(parseGoOutput(text)).toEqual({
        failingTests: [],
        failingPackages: [],
        compileErrors: [],
        passedPackages: [],
      });
    });
  }

  it("is true for each recorded Go output", () => {
    for (const name of [
      "build-failed.txt",
      "test-failed.txt",
      "test-failed-verbose.txt",
      "test-passed.txt",
    ]) {
      expect(looksLikeGo(fixture(name))).toBe(true);
    }
  });
});
