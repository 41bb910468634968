import type { CheckFinding, CheckResult, CheckRun } from "./types.js";

/**
 * How `mai-gate check` prints a CheckResult: a human summary, GitHub/Gitea Actions workflow
 * commands, and JUnit XML. Pure functions; each returns text ending with a newline.
 */

const MARK: Record<CheckRun["status"], string> = { passed: "✓", failed: "✗", skipped: "–" };

const isError = (f: CheckFinding): boolean => f.severity === "error";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `path:line`, `path`, or the check's name when the finding is about no file. */
function location(f: CheckFinding): string {
  if (f.file === null) return f.check;
  return f.line === null ? f.file : `${f.file}:${f.line}`;
}

/** `path:line: message` (warnings say so), as people and the JUnit failure body read it. */
function findingText(f: CheckFinding): string {
  return `${location(f)}: ${f.severity === "warning" ? "warning: " : ""}${f.message}`;
}

/** Continuation lines of a multi-line text, indented under its first line. */
function indentContinuation(text: string): string {
  return text.replace(/\r?\n/g, "\n    ");
}

function verdict(result: CheckResult): string {
  const errors = result.findings.filter(isError).length;
  const warnings = result.findings.length - errors;
  if (result.passed) {
    return warnings > 0
      ? `mai-gate check: PASSED (${plural(warnings, "warning")})`
      : "mai-gate check: PASSED";
  }
  if (errors > 0) return `mai-gate check: FAILED (${plural(errors, "error")})`;
  const failedRuns = result.runs.filter((r) => r.status === "failed").length;
  return failedRuns > 0
    ? `mai-gate check: FAILED (${plural(failedRuns, "failed check")})`
    : "mai-gate check: FAILED";
}

/** Context lines, one line per check run, the findings, then the verdict. */
export function formatHuman(result: CheckResult): string {
  const width = Math.max(0, ...result.runs.map((r) => r.check.length));
  const runs = result.runs.map((r) =>
    indentContinuation(`${MARK[r.status]} ${r.check.padEnd(width)}  ${r.detail}`.trimEnd()),
  );
  const findings = result.findings.map((f) => indentContinuation(findingText(f)));
  const sections = [[...result.context, ...runs], findings, [verdict(result)]].filter((s) => s.length > 0);
  return `${sections.map((s) => s.join("\n")).join("\n\n")}\n`;
}

// --- GitHub / Gitea Actions workflow commands ---------------------------------------------

/** The runner's escaping of a command's message (data). */
function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

/** The runner's escaping of a property value: the data escapes plus `:` and `,`. */
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

function annotation(f: CheckFinding): string {
  const props: string[] = [];
  if (f.file !== null) {
    props.push(`file=${escapeProperty(f.file)}`);
    if (f.line !== null) props.push(`line=${f.line}`);
  }
  props.push(`title=${escapeProperty(`mai-gate ${f.check}`)}`);
  return `::${f.severity} ${props.join(",")}::${escapeData(f.message)}`;
}

/** One `::error`/`::warning` annotation per finding, then a `::notice::` or `::error::` verdict. */
export function formatGithub(result: CheckResult): string {
  const command = result.passed ? "notice" : "error";
  const lines = [...result.findings.map(annotation), `::${command}::${escapeData(verdict(result))}`];
  return `${lines.join("\n")}\n`;
}

// --- JUnit XML ------------------------------------------------------------------------------

/** Characters XML 1.0 does not allow at all (not even as references): removed. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** Attribute values also keep their tabs and line breaks (a parser would turn them into spaces). */
function escapeAttr(text: string): string {
  return escapeXml(text).replaceAll("\t", "&#9;").replaceAll("\n", "&#10;").replaceAll("\r", "&#13;");
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join("");
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

type Outcome =
  | { kind: "passed"; out: string }
  | { kind: "failure"; message: string; body: string }
  | { kind: "skipped"; message: string };

interface TestCase {
  name: string;
  outcome: Outcome;
}

/** A failed run that produced no error finding still fails, on its check-named case. */
function outcomeOf(
  run: CheckRun,
  findings: CheckFinding[],
  checkCase: boolean,
  silentFail: boolean,
): Outcome {
  const errors = findings.filter(isError);
  const first = errors[0];
  if (first) {
    const firstLine = first.message.split(/\r?\n/)[0] ?? "";
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    return { kind: "failure", message: `${firstLine}${more}`, body: findings.map(findingText).join("\n") };
  }
  if (run.status === "skipped") return { kind: "skipped", message: run.detail };
  if (checkCase && silentFail) {
    const text = [run.detail, ...findings.map(findingText)].join("\n");
    return { kind: "failure", message: run.detail, body: text };
  }
  return { kind: "passed", out: findings.map(findingText).join("\n") };
}

/** One case per file the run looked at; findings on other files (or none) go to a case named after the check. */
function casesOf(run: CheckRun, findings: CheckFinding[]): TestCase[] {
  const files = [...new Set(run.files)];
  const byFile = new Map<string, CheckFinding[]>(files.map((file) => [file, []]));
  const loose: CheckFinding[] = [];
  for (const f of findings) ((f.file === null ? undefined : byFile.get(f.file)) ?? loose).push(f);
  const silentFail = run.status === "failed" && !findings.some(isError);
  const cases = files.map((file) => ({
    name: file,
    outcome: outcomeOf(run, byFile.get(file) ?? [], false, silentFail),
  }));
  if (files.length === 0 || loose.length > 0 || silentFail) {
    cases.push({ name: run.check, outcome: outcomeOf(run, loose, true, silentFail) });
  }
  return cases;
}

function testcaseXml(run: CheckRun, c: TestCase, timeMs: number): string {
  const open = `    <testcase${attrs({ classname: `mai-gate.${run.check}`, name: c.name, time: seconds(timeMs) })}`;
  const o = c.outcome;
  if (o.kind === "failure") {
    const failure = `<failure${attrs({ message: o.message, type: run.check })}>${escapeXml(o.body)}</failure>`;
    return `${open}>\n      ${failure}\n    </testcase>`;
  }
  if (o.kind === "skipped")
    return `${open}>\n      <skipped${attrs({ message: o.message })}/>\n    </testcase>`;
  if (o.out) return `${open}>\n      <system-out>${escapeXml(o.out)}</system-out>\n    </testcase>`;
  return `${open}/>`;
}

interface Suite {
  xml: string;
  tests: number;
  failures: number;
  skipped: number;
  timeMs: number;
}

function suiteOf(run: CheckRun, findings: CheckFinding[]): Suite {
  const cases = casesOf(run, findings);
  const failures = cases.filter((c) => c.outcome.kind === "failure").length;
  const skipped = cases.filter((c) => c.outcome.kind === "skipped").length;
  const caseMs = run.durationMs / cases.length;
  const head = `  <testsuite${attrs({ name: run.check, tests: cases.length, failures, errors: 0, skipped, time: seconds(run.durationMs) })}>`;
  const body = cases.map((c) => testcaseXml(run, c, caseMs));
  return {
    xml: [head, ...body, "  </testsuite>"].join("\n"),
    tests: cases.length,
    failures,
    skipped,
    timeMs: run.durationMs,
  };
}

/** JUnit XML: a testsuite per check run, a testcase per file it looked at. */
export function formatJunit(result: CheckResult): string {
  const runs = [...result.runs];
  // A finding of a check that has no run must not vanish: it gets a run of its own.
  for (const f of result.findings) {
    if (!runs.some((r) => r.check === f.check)) {
      const failed = result.findings.some((g) => g.check === f.check && isError(g));
      runs.push({
        check: f.check,
        status: failed ? "failed" : "passed",
        detail: "",
        files: [],
        durationMs: 0,
      });
    }
  }
  const suites = runs.map((run) =>
    suiteOf(
      run,
      result.findings.filter((f) => f.check === run.check),
    ),
  );
  const sum = (key: "tests" | "failures" | "skipped" | "timeMs") => suites.reduce((n, s) => n + s[key], 0);
  const head = `<testsuites${attrs({
    name: "mai-gate check",
    tests: sum("tests"),
    failures: sum("failures"),
    errors: 0,
    skipped: sum("skipped"),
    time: seconds(sum("timeMs")),
  })}>`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    head,
    ...suites.map((s) => s.xml),
    "</testsuites>",
    "",
  ].join("\n");
}
