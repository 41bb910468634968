import { describe, expect, it } from "vitest";
import { looksLikeGoJson, parseGoTestJson } from "../../../src/suite/go-json.js";

// Real Go 1.19 output is read in test/integration/go-real.test.ts; these are the shapes it cannot make.
const ev = (e: Record<string, unknown>) => JSON.stringify({ Time: "2026-01-01T00:00:00Z", ...e });
const out = (Package: string, Output: string, Test?: string) =>
  ev({ Action: "output", Package, ...(Test ? { Test } : {}), Output });

describe("go test -json (test2json events)", () => {
  it("keeps two packages apart when their events interleave", () => {
    const text = [
      ev({ Action: "run", Package: "m/a", Test: "TestA" }),
      ev({ Action: "run", Package: "m/b", Test: "TestB" }),
      out("m/a", "=== RUN   TestA\n", "TestA"),
      out("m/b", "=== RUN   TestB\n", "TestB"),
      out("m/a", "    a_test.go:5: a broke\n", "TestA"),
      out("m/b", "    b_test.go:9: b broke\n", "TestB"),
      out("m/a", "--- FAIL: TestA (0.00s)\n", "TestA"),
      ev({ Action: "fail", Package: "m/a", Test: "TestA" }),
      out("m/b", "--- FAIL: TestB (0.00s)\n", "TestB"),
      ev({ Action: "fail", Package: "m/b", Test: "TestB" }),
      out("m/a", "FAIL\tm/a\t0.01s\n"),
      ev({ Action: "fail", Package: "m/a" }),
      out("m/b", "FAIL\tm/b\t0.01s\n"),
      ev({ Action: "fail", Package: "m/b" }),
    ].join("\n");
    expect(parseGoTestJson(text).failingTests).toEqual([
      { name: "TestA", package: "m/a", file: "a_test.go", line: 5, message: "a broke" },
      { name: "TestB", package: "m/b", file: "b_test.go", line: 9, message: "b broke" },
    ]);
  });

  it("reads Go 1.24's build-output events as compile errors", () => {
    const text = [
      ev({ Action: "build-output", ImportPath: "m/x", Output: "# m/x\n" }),
      ev({ Action: "build-output", ImportPath: "m/x", Output: "x/x.go:3:2: undefined: y\n" }),
      ev({ Action: "build-fail", ImportPath: "m/x" }),
      out("m/x", "FAIL\tm/x [build failed]\n"),
      ev({ Action: "fail", Package: "m/x" }),
    ].join("\n");
    const report = parseGoTestJson(text);
    expect(report.compileErrors).toEqual([
      { file: "x/x.go", line: 3, column: 2, message: "undefined: y", package: "m/x" },
    ]);
    expect(report.failingPackages).toEqual(["m/x"]);
  });

  it("a subtest that fails names itself and its parent; a skipped test is not a failure", () => {
    const text = [
      ev({ Action: "run", Package: "m", Test: "TestT" }),
      ev({ Action: "run", Package: "m", Test: "TestT/one" }),
      out("m", "    t_test.go:4: one broke\n", "TestT/one"),
      ev({ Action: "fail", Package: "m", Test: "TestT/one" }),
      ev({ Action: "fail", Package: "m", Test: "TestT" }),
      ev({ Action: "run", Package: "m", Test: "TestS" }),
      ev({ Action: "skip", Package: "m", Test: "TestS" }),
      ev({ Action: "fail", Package: "m" }),
    ].join("\n");
    expect(parseGoTestJson(text).failingTests.map((t) => t.name)).toEqual(["TestT/one", "TestT"]);
  });

  it("is not fooled by JSON that is not an event", () => {
    expect(looksLikeGoJson('{"level":"info","msg":"listening"}\n{"Action":1}\nplain')).toBe(false);
    expect(looksLikeGoJson(ev({ Action: "pass", Package: "m" }))).toBe(true);
  });
});
