/**
 * Reads what `go build ./...`, `go vet ./...` and `go test ./...` (plain or `-v`) print, so a
 * failing pre-push suite can name the tests, packages and source lines that failed.
 *
 * Work is bounded: only the last {@link MAX_CHARS} characters (2 MiB of UTF-16 code units) of the
 * text are read, from the first whole line in them; Go prints its results at the end of a run.
 * CRLF line endings and ANSI colour codes are tolerated.
 */

export interface GoFailingTest {
  name: string;
  package: string | null;
  file: string | null;
  line: number | null;
  message: string | null;
}

export interface GoCompileError {
  file: string;
  line: number;
  column: number | null;
  message: string;
  package: string | null;
}

export interface GoReport {
  failingTests: GoFailingTest[];
  failingPackages: string[];
  compileErrors: GoCompileError[];
  passedPackages: string[];
}

/** How much of the end of the text is read. */
export const MAX_CHARS = 2 * 1024 * 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes begin with ESC.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const MARKER = /^\s*(?:=== (?:RUN|CONT|PAUSE|NAME)\s+|--- (FAIL|PASS|SKIP): )(\S+)/;
const RESULT = /^(ok|FAIL)(?:\s*\t(\S+)|\s+(\S+)\s+(?:\d[\d.]*m?s\b|\(cached\)|\[[\w ]+\]))/;
const NO_TESTS = /^\?\s+\S+\s+\[no test files\]/;
const HEADER = /^# (\S+)/;
const LOG = /^\s+([^\s:]+\.go):(\d+): ?(.*)$/;
const COMPILE = /^(?:vet: )?((?:[A-Za-z]:)?[^\s:]+\.go):(\d+)(?::(\d+))?: (.+)$/;
const PANIC = /^(?:panic|fatal error): /;
const FRAME = /^(?:created by )?(\S+?)\.((?:Test|Benchmark|Fuzz|Example)[^\s.(]*)(?:[.(\s]|$)/;
const LOCATION = /^\t(\S.*?\.go):(\d+)/;

interface Where {
  file: string | null;
  line: number | null;
  message: string | null;
}

interface Panic extends Where {
  context: string | null;
  frameTest: string | null;
  framePackage: string | null;
  wantLocation: boolean;
}

interface Scan {
  report: GoReport;
  seen: Set<string>;
  recognized: number;
  header: string | null;
  current: string | null;
  failing: Set<string>;
  logs: Map<string, Where>;
  panic: Panic | null;
}

export function parseGoOutput(text: string): GoReport {
  return scan(text).report;
}

/** True when the text has any of the shapes {@link parseGoOutput} reads, or a `=== RUN`/`--- PASS` line. */
export function looksLikeGo(text: string): boolean {
  return scan(text).recognized > 0;
}

function scan(text: string): Scan {
  const s: Scan = {
    report: { failingTests: [], failingPackages: [], compileErrors: [], passedPackages: [] },
    seen: new Set(),
    recognized: 0,
    header: null,
    current: null,
    failing: new Set(),
    logs: new Map(),
    panic: null,
  };
  for (const raw of lastChars(text).split(/\r\n|\n|\r/)) {
    const line = raw.replace(ANSI, "").trimEnd();
    if (line !== "" && handleLine(s, line)) s.recognized += 1;
  }
  finishBlock(s, null);
  return s;
}

/** The last {@link MAX_CHARS} characters of `text`, from the first whole line in them. */
export function lastChars(text: string): string {
  if (text.length <= MAX_CHARS) return text;
  const tail = text.slice(-MAX_CHARS);
  const newline = tail.indexOf("\n");
  return newline === -1 ? tail : tail.slice(newline + 1);
}

/** Reads one line; returns true when it is a shape that only Go prints. */
function handleLine(s: Scan, line: string): boolean {
  const result = RESULT.exec(line);
  if (result) {
    const pkg = (result[2] ?? result[3])!;
    finishBlock(s, pkg);
    const list = result[1] === "ok" ? s.report.passedPackages : s.report.failingPackages;
    if (!s.seen.has(`${result[1]}\0${pkg}`)) {
      s.seen.add(`${result[1]}\0${pkg}`);
      list.push(pkg);
    }
    return true;
  }
  if (NO_TESTS.test(line)) {
    finishBlock(s, null);
    return true;
  }
  const header = HEADER.exec(line);
  if (header) {
    s.header = header[1]!;
    return false;
  }
  const marker = MARKER.exec(line);
  if (marker) {
    s.header = null;
    s.current = marker[2]!;
    if (marker[1] === "FAIL") s.failing.add(s.current);
    return true;
  }
  if (PANIC.test(line) && s.panic === null) {
    s.panic = newPanic(line, s.current);
    return true;
  }
  if (s.panic && readTrace(s.panic, line)) return false;
  if (readLog(s, line)) return false;
  return readCompileError(s, line);
}

function newPanic(line: string, context: string | null): Panic {
  const message = line.replace(/ \[recovered[^\]]*\]$/, "");
  return {
    message,
    context,
    frameTest: null,
    framePackage: null,
    file: null,
    line: null,
    wantLocation: false,
  };
}

/** Takes the first frame of a test function (`pkg.TestX(…)`, `pkg.TestX.func1()`, `created by pkg.TestX`). */
function readTrace(p: Panic, line: string): boolean {
  if (p.wantLocation) {
    p.wantLocation = false;
    const at = LOCATION.exec(line);
    if (at) {
      p.file = at[1]!;
      p.line = Number(at[2]);
      return true;
    }
  }
  const frame = p.frameTest === null ? FRAME.exec(line) : null;
  if (!frame) return false;
  p.framePackage = frame[1]!.replace(/_test$/, "");
  p.frameTest = frame[2]!;
  p.wantLocation = true;
  return true;
}

function readLog(s: Scan, line: string): boolean {
  const log = LOG.exec(line);
  if (!log) return false;
  if (s.current !== null && !s.logs.has(s.current)) {
    s.logs.set(s.current, { file: log[1]!, line: Number(log[2]), message: log[3]! });
  }
  return true;
}

/** `file.go:L:C: message`, or `file.go:L: message` under a `# pkg` header; `vet: ` may lead. */
function readCompileError(s: Scan, line: string): boolean {
  const m = COMPILE.exec(line);
  if (!m || (m[3] === undefined && s.header === null)) return false;
  const error: GoCompileError = {
    file: m[1]!,
    line: Number(m[2]),
    column: m[3] === undefined ? null : Number(m[3]),
    message: m[4]!,
    package: s.header,
  };
  const key = `compile\0${error.file}\0${error.line}\0${error.column}\0${error.message}`;
  if (!s.seen.has(key)) {
    s.seen.add(key);
    s.report.compileErrors.push(error);
  }
  return true;
}

/** Ends one package's output (at its `ok`/`FAIL` line, or at the end of the text with `pkg` null). */
function finishBlock(s: Scan, pkg: string | null): void {
  const crash = s.panic ? panicTest(s.panic) : null;
  if (crash) s.failing.add(crash);
  for (const name of s.failing) {
    const where = name === crash ? panicWhere(s.panic!, s.logs.get(name)) : s.logs.get(name);
    const test: GoFailingTest = {
      name,
      package: pkg ?? (name === crash ? s.panic!.framePackage : null),
      file: where?.file ?? null,
      line: where?.line ?? null,
      message: where?.message ?? null,
    };
    const key = `test\0${test.package}\0${name}`;
    if (!s.seen.has(key)) {
      s.seen.add(key);
      s.report.failingTests.push(test);
    }
  }
  s.header = null;
  s.current = null;
  s.failing = new Set();
  s.logs = new Map();
  s.panic = null;
}

/** The test that panicked: the running test when the trace agrees with it (or has no test frame), else the trace's. */
function panicTest(p: Panic): string | null {
  const { context, frameTest } = p;
  if (context === null || frameTest === null) return context ?? frameTest;
  const agrees = context === frameTest || context.startsWith(`${frameTest}/`);
  return agrees ? context : frameTest;
}

/** A panic's message wins over the test's logs; its place is the test's frame in the trace, if any. */
function panicWhere(p: Panic, logged: Where | undefined): Where {
  if (p.file !== null) return { file: p.file, line: p.line, message: p.message };
  return { file: logged?.file ?? null, line: logged?.line ?? null, message: p.message };
}
