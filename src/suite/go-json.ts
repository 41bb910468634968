/**
 * Reads `go test -json` (test2json events, one JSON object a line) so a failing step names its tests
 * as the plain output does. Each package's `Output` events are put back together and read by the
 * plain-text reader (for the file, line and message of each failure, panics and compile errors);
 * the events themselves decide which tests and packages failed or passed, including a test that
 * started and never ended in a failed package (a panic or a timeout killed the test binary).
 * Lines that are not events (compile errors printed on stderr beside the JSON, before Go 1.24) are
 * read as plain text; Go 1.24's `build-output` events are too.
 */
import { type GoFailingTest, type GoReport, lastChars, parseGoOutput } from "./go-output.js";

interface TestEvent {
  Action: string;
  Package?: string;
  Test?: string;
  Output?: string;
  ImportPath?: string;
}

interface PackageEvents {
  output: string[];
  /** Each test's last action: run, pass, fail, skip (pause and cont keep it running). */
  tests: Map<string, string>;
  /** Tests in the order they failed or, for unfinished ones, started. */
  order: string[];
  result: "pass" | "fail" | null;
}

const ACTIONS = new Set([
  "start",
  "run",
  "pause",
  "cont",
  "pass",
  "bench",
  "fail",
  "output",
  "skip",
  "build-output",
  "build-fail",
]);

/** True when the text holds at least one test2json event. */
export function looksLikeGoJson(text: string): boolean {
  for (const line of lastChars(text).split(/\r\n|\n|\r/)) if (toEvent(line)) return true;
  return false;
}

export function parseGoTestJson(text: string): GoReport {
  const packages = new Map<string, PackageEvents>();
  const plain: string[] = [];
  for (const line of lastChars(text).split(/\r\n|\n|\r/)) {
    const event = toEvent(line);
    if (!event) plain.push(line);
    else if (event.Action === "build-output") plain.push((event.Output ?? "").replace(/\n$/, ""));
    else if (event.Package) record(packages, event.Package, event);
  }
  const report = parseGoOutput(plain.join("\n"));
  for (const [pkg, events] of packages) merge(report, pkg, events);
  return report;
}

function toEvent(line: string): TestEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const e = value as Record<string, unknown>;
  if (typeof e.Action !== "string" || !ACTIONS.has(e.Action)) return null;
  for (const key of ["Package", "Test", "Output", "ImportPath"])
    if (e[key] !== undefined && typeof e[key] !== "string") return null;
  return e as unknown as TestEvent;
}

function record(packages: Map<string, PackageEvents>, pkg: string, e: TestEvent): void {
  let p = packages.get(pkg);
  if (!p) {
    p = { output: [], tests: new Map(), order: [], result: null };
    packages.set(pkg, p);
  }
  if (e.Action === "output" && e.Output !== undefined) {
    p.output.push(e.Output);
    return;
  }
  if (e.Test === undefined) {
    if (e.Action === "pass" || e.Action === "fail") p.result = e.Action;
    return;
  }
  if (e.Action === "run") {
    p.tests.set(e.Test, "run");
    if (!p.order.includes(e.Test)) p.order.push(e.Test);
  } else if (e.Action === "pass" || e.Action === "fail" || e.Action === "skip") {
    p.tests.set(e.Test, e.Action);
    if (e.Action === "fail") p.order = [...p.order.filter((t) => t !== e.Test), e.Test];
  }
}

/** One package's events into the report: its output read as text, its failures from the events. */
function merge(report: GoReport, pkg: string, p: PackageEvents): void {
  const text = parseGoOutput(p.output.join(""));
  for (const e of text.compileErrors) report.compileErrors.push({ ...e, package: e.package ?? pkg });
  const failed = p.order.filter((t) => {
    const last = p.tests.get(t);
    return last === "fail" || (last === "run" && p.result === "fail");
  });
  const named = new Set(failed);
  for (const t of text.failingTests) if (!named.has(t.name)) failed.push(t.name);
  for (const name of failed) {
    const found = text.failingTests.find((t) => t.name === name);
    addTest(report, {
      name,
      package: pkg,
      file: found?.file ?? null,
      line: found?.line ?? null,
      message: found?.message ?? null,
    });
  }
  const into =
    p.result === "pass" ? report.passedPackages : p.result === "fail" ? report.failingPackages : null;
  if (into && !into.includes(pkg)) into.push(pkg);
}

function addTest(report: GoReport, test: GoFailingTest): void {
  const same = report.failingTests.find((t) => t.name === test.name && t.package === test.package);
  if (!same) report.failingTests.push(test);
}
