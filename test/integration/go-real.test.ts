import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { looksLikeGoJson, parseGoTestJson } from "../../src/suite/go-json.js";
import { looksLikeGo, parseGoOutput } from "../../src/suite/go-output.js";
import { type Connected, connect, structured } from "../helpers/mcp.js";

/**
 * The suite's Go readers on what the real toolchain prints: Debian's golang-go (installed by the
 * test setup when missing) builds, vets and tests a small module written here, with its cache, its
 * GOPATH and its settings in a temp dir, no module proxy and no toolchain download.
 */

const APP = "example.com/app";

/** The module: one package per shape of failure, and one that passes. */
const MODULE: Record<string, string> = {
  "go.mod": `module ${APP}\n\ngo 1.19\n`,
  "calc/calc.go": "package calc\n\nfunc Mul(a, b int) int { return a + b }\n",
  "calc/calc_test.go": `package calc

import "testing"

func TestMul(t *testing.T) {
	if got := Mul(2, 3); got != 6 {
		t.Errorf("Mul(2, 3) = %d, want 6", got)
	}
}

func TestOK(t *testing.T) {}
`,
  "crash/crash_test.go": `package crash

import "testing"

func TestOutOfRange(t *testing.T) {
	var s []int
	_ = s[3]
}
`,
  "slow/slow_test.go": `package slow

import (
	"testing"
	"time"
)

func TestSlow(t *testing.T) {
	time.Sleep(30 * time.Second)
}
`,
  "good/good_test.go": `package good

import "testing"

func TestGood(t *testing.T) {
	t.Log("fine")
}
`,
  "broken/a.go": "package broken\n\nfunc A() int {\n\treturn missingName\n}\n",
  "broken/a_test.go": 'package broken\n\nimport "testing"\n\nfunc TestA(t *testing.T) { A() }\n',
  "vetbad/vet.go": `package vetbad

import "fmt"

func Count(n string) string {
	return fmt.Sprintf("%d items", n)
}
`,
};

/** The failing packages of one `go test` over calc, crash, slow and good (with -timeout 2s). */
const TESTED = ["./calc/...", "./crash/...", "./slow/...", "./good/..."];

let root: string;
let dir: string;
let env: Record<string, string>;

async function writeTree(into: string, files: Record<string, string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(into, path)), { recursive: true });
    await writeFile(join(into, path), content);
  }
}

/** `go …` in the module; its stdout and stderr interleaved, as a suite step's log has them. */
async function go(...args: string[]): Promise<{ exitCode: number | undefined; output: string }> {
  const r = await execa("go", args, { cwd: dir, env, extendEnv: false, all: true, reject: false });
  return { exitCode: r.exitCode, output: r.all ?? "" };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mai-gate-go-"));
  dir = join(root, "app");
  await writeTree(dir, MODULE);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    GOCACHE: join(root, "cache"),
    GOPATH: join(root, "gopath"),
    GOENV: "off",
    GOFLAGS: "-mod=mod",
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    GOTELEMETRY: "off",
    CGO_ENABLED: "0",
  };
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("Go output on the real toolchain", () => {
  it("go build: a compile error with its file, line, column, message and package", async () => {
    const r = await go("build", "./broken/...");
    expect(r.exitCode).not.toBe(0);
    expect(looksLikeGo(r.output)).toBe(true);
    const report = parseGoOutput(r.output);
    expect(report.compileErrors).toEqual([
      {
        file: "broken/a.go",
        line: 4,
        column: 9,
        message: "undefined: missingName",
        package: `${APP}/broken`,
      },
    ]);
  });

  it("go vet: the vet finding as an error at its place", async () => {
    const r = await go("vet", "./vetbad/...");
    expect(r.exitCode).not.toBe(0);
    expect(parseGoOutput(r.output).compileErrors).toEqual([
      expect.objectContaining({
        file: "vetbad/vet.go",
        line: 6,
        message: expect.stringContaining("Sprintf format %d has arg n of wrong type string"),
      }),
    ]);
  });

  it("go test: a failing test's message, a panic, a timeout, and the package that passed", async () => {
    const r = await go("test", "-timeout", "2s", ...TESTED);
    expect(r.exitCode).not.toBe(0);
    const report = parseGoOutput(r.output);
    expect(report.failingTests).toEqual(expect.arrayContaining(expectedFailures()));
    expect(report.failingTests).toHaveLength(3);
    expect(report.failingPackages.sort()).toEqual([`${APP}/calc`, `${APP}/crash`, `${APP}/slow`]);
    expect(report.passedPackages).toEqual([`${APP}/good`]);
  });

  it("go test -json: the same failures named from the test2json events, which the plain reader misses", async () => {
    const r = await go("test", "-json", "-timeout", "2s", ...TESTED, "./broken/...");
    expect(r.exitCode).not.toBe(0);
    expect(looksLikeGoJson(r.output)).toBe(true);
    // Read as plain text, the events name nothing: each line is a JSON object.
    expect(parseGoOutput(r.output).failingTests).toEqual([]);
    const report = parseGoTestJson(r.output);
    expect(report.failingTests).toEqual(expect.arrayContaining(expectedFailures()));
    expect(report.failingTests).toHaveLength(3);
    expect(report.failingPackages.sort()).toEqual([
      `${APP}/broken`,
      `${APP}/calc`,
      `${APP}/crash`,
      `${APP}/slow`,
    ]);
    expect(report.passedPackages).toEqual([`${APP}/good`]);
    // Go 1.19 prints a package's compile errors on stderr, beside the events.
    expect(report.compileErrors).toContainEqual(
      expect.objectContaining({ file: "broken/a.go", line: 4, message: "undefined: missingName" }),
    );
  });

  it("go test -json of a passing package: passed, nothing failing", async () => {
    const r = await go("test", "-json", "./good/...", "./calc/...", "-run", "TestOK|TestGood");
    expect(r.exitCode).toBe(0);
    const report = parseGoTestJson(r.output);
    expect(report).toMatchObject({ failingTests: [], failingPackages: [], compileErrors: [] });
    expect(report.passedPackages.sort()).toEqual([`${APP}/calc`, `${APP}/good`]);
  });
});

/** TestMul's message at its line, the panic at its frame, the timeout at the test's sleeping line. */
function expectedFailures() {
  return [
    {
      name: "TestMul",
      package: `${APP}/calc`,
      file: "calc_test.go",
      line: 7,
      message: "Mul(2, 3) = 5, want 6",
    },
    expect.objectContaining({
      name: "TestOutOfRange",
      package: `${APP}/crash`,
      line: 7,
      message: "panic: runtime error: index out of range [3] with length 0",
    }),
    expect.objectContaining({
      name: "TestSlow",
      package: `${APP}/slow`,
      line: 9,
      message: "panic: test timed out after 2s",
    }),
  ];
}

describe("a suite step running go test -json", () => {
  let sandbox: GitSandbox;
  let session: Connected | null = null;

  beforeAll(async () => {
    const files = Object.fromEntries(
      Object.entries(MODULE)
        .filter(([path]) => !/^(broken|vetbad|slow)\//.test(path))
        .map(([path, text]) => [`app/${path}`, text]),
    );
    sandbox = await createGitSandbox({
      config: {
        migrations: { dir: "db/migrations" },
        suite: {
          pre_push: [
            {
              name: "go-test",
              run: ["go", "test", "-json", "./..."],
              cwd: "app",
              env: Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("GO"))),
              timeout: 120,
            },
          ],
        },
      },
      files: { ...files, "db/migrations/001_init.sql": "SELECT 1;\n" },
    });
  });
  afterAll(async () => {
    await session?.close();
    await sandbox?.cleanup();
  });

  it("names the failing test, its file, line and message, in the step's report", async () => {
    session = await connect({ cwd: await sandbox.worktree("mai/gia/go-json") });
    const r = structured<{
      state: string;
      steps: {
        status: string;
        failing_tests: { name: string; file: string | null; line: number | null; message: string | null }[];
        failing_packages: string[];
      }[];
    }>(await session.call("run_pre_push_suite", {}));
    expect(r.state).toBe("failed");
    const step = r.steps[0]!;
    expect(step.status).toBe("failed");
    // Packages finish in either order.
    expect(step.failing_tests).toHaveLength(2);
    expect(step.failing_tests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: "TestMul",
          file: "calc_test.go",
          line: 7,
          message: "Mul(2, 3) = 5, want 6",
        }),
        expect.objectContaining({ name: "TestOutOfRange", line: 7 }),
      ]),
    );
    expect(step.failing_packages.sort()).toEqual([`${APP}/calc`, `${APP}/crash`]);
  });
});
