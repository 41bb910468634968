import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runStep, type StepSpec } from "../../../src/suite/run-step.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

let dir: string;

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "run-step-")));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = (run: string | string[], extra: Partial<StepSpec> = {}): StepSpec => ({
  name: "step",
  run,
  cwd: dir,
  timeoutMs: 30_000,
  logFile: join(dir, "logs", "nested", "step.log"),
  ...extra,
});

/** A sleep duration no other process uses, so its processes can be found by command line. */
const marker = () => `29${Math.floor(Math.random() * 10)}.${process.pid}${Math.floor(Math.random() * 1e6)}`;

/** Live processes whose command line mentions `text` (zombies have an empty command line). */
function processesWith(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** SIGKILL is delivered asynchronously: allow the kernel a moment to tear the processes down. */
const expectNoneLeft = (text: string) =>
  vi.waitFor(() => expect(processesWith(text)).toEqual([]), { timeout: 5_000, interval: 20 });

describe("runStep", () => {
  it("runs a passing argv step and logs its output", async () => {
    const out = await runStep(spec(["sh", "-c", "echo out; echo err >&2; echo more"]));
    expect(out).toMatchObject({ status: "passed", exitCode: 0, signal: null, error: null, outputBytes: 13 });
    expect(out.tail.split("\n").sort()).toEqual(["err", "more", "out"]);
    expect((await readFile(join(dir, "logs", "nested", "step.log"), "utf8")).split("\n").sort()).toEqual([
      "",
      "err",
      "more",
      "out",
    ]);
  });

  it("runs a passing shell string", async () => {
    const out = await runStep(spec("for i in 1 2 3; do echo line $i; done"));
    expect(out).toMatchObject({ status: "passed", exitCode: 0, error: null });
    expect(out.tail).toBe("line 1\nline 2\nline 3");
    expect(await readFile(spec("").logFile, "utf8")).toBe("line 1\nline 2\nline 3\n");
  });

  it("reports a failing step with its exit code", async () => {
    const out = await runStep(spec("echo broken; exit 3"));
    expect(out).toMatchObject({ status: "failed", exitCode: 3, signal: null, tail: "broken" });
  });

  it("reports a missing command as not_found, as argv and through the shell", async () => {
    const argv = await runStep(spec(["no-such-cmd-xyz"]));
    expect(argv).toMatchObject({ status: "not_found", exitCode: null });
    expect(argv.error).toContain("ENOENT");

    const shell = await runStep(spec("no-such-cmd-xyz"));
    expect(shell).toMatchObject({ status: "not_found", exitCode: 127 });
    expect(shell.tail).toContain("no-such-cmd-xyz");
  });

  it("applies env and cwd", async () => {
    const out = await runStep(
      spec('pwd; printf "%s\\n" "$RUN_STEP_VAR"', { env: { RUN_STEP_VAR: "from-spec" } }),
    );
    expect(out.tail).toBe(`${dir}\nfrom-spec`);
    expect(out.status).toBe("passed");
  });

  it("times out a hanging step and leaves none of its processes behind", async () => {
    const m = marker();
    const out = await runStep(spec(`sleep ${m} & echo started; wait`, { timeoutMs: 500 }));
    expect(out).toMatchObject({ status: "timed_out", exitCode: null, signal: "SIGTERM", tail: "started" });
    expect(out.error).toContain("timed out");
    await expectNoneLeft(m);
  });

  it("kills the group after SIGTERM is ignored", async () => {
    const m = marker();
    const out = await runStep(
      spec(`trap '' TERM; sleep ${m} & echo started; wait; wait`, { timeoutMs: 500 }),
    );
    expect(out).toMatchObject({ status: "timed_out", signal: "SIGKILL" });
    await expectNoneLeft(m);
  });

  it("kills what a passing step left running in the background", async () => {
    const piped = marker();
    const quiet = marker();
    const out = await runStep(spec(`sleep ${piped} & sleep ${quiet} >/dev/null 2>&1 & echo done; exit 0`));
    expect(out).toMatchObject({ status: "passed", exitCode: 0, tail: "done", error: null });
    await expectNoneLeft(piped);
    await expectNoneLeft(quiet);
  });

  it("stops reading when a process that left the group keeps the output open", async () => {
    const m = marker();
    try {
      // The escapee says when it has its own session, so the step's group kill cannot beat it to it.
      const escapee = `setsid sh -c "touch escaped; exec sleep ${m}" &`;
      const out = await runStep(spec(`${escapee} while [ ! -e escaped ]; do sleep 0.01; done; echo done`));
      expect(out).toMatchObject({ status: "passed", exitCode: 0, tail: "done" });
      expect(out.error).toBe(
        "a process outside the step's process group kept its output open; stopped reading",
      );
    } finally {
      for (const pid of processesWith(m)) process.kill(pid, "SIGKILL");
    }
  });

  it("cancels on abort and leaves nothing running", async () => {
    const m = marker();
    const controller = new AbortController();
    const out = await runStep(spec(`sleep ${m} & echo started; wait`), {
      signal: controller.signal,
      onOutput: () => controller.abort(),
    });
    expect(out).toMatchObject({ status: "cancelled", exitCode: null, tail: "started" });
    await expectNoneLeft(m);
  });

  it("does not start when already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await runStep(spec("echo never"), { signal: controller.signal });
    expect(out).toMatchObject({ status: "cancelled", exitCode: null, outputBytes: 0, tail: "" });
    expect(await readFile(spec("").logFile, "utf8")).toBe("");
  });

  it("bounds the tail by lines and says how much came before", async () => {
    const out = await runStep(spec("seq 1 100"), { tailLines: 10 });
    const earlier = Buffer.byteLength(Array.from({ length: 91 }, (_, i) => `${i + 1}\n`).join(""));
    expect(out.tail.split("\n")).toEqual([
      `[… ${earlier} bytes earlier in ${spec("").logFile}]`,
      ...Array.from({ length: 9 }, (_, i) => String(92 + i)),
    ]);
  });

  it("cuts one huge line mid-line", async () => {
    const out = await runStep(spec("head -c 100000 /dev/zero | tr '\\0' y"), { tailBytes: 1024 });
    const [first, rest, ...more] = out.tail.split("\n");
    expect(more).toEqual([]);
    expect(rest).toMatch(/^y+$/);
    expect(first).toBe(`[… ${100_000 - (rest ?? "").length} bytes earlier in ${spec("").logFile}]`);
    expect(Buffer.byteLength(out.tail)).toBeLessThanOrEqual(1024);
  });

  it("cuts multi-byte text on a character boundary", async () => {
    const out = await runStep(spec("yes é | head -n 3000 | tr -d '\\n'"), { tailBytes: 1024 });
    const [first, rest = "", ...more] = out.tail.split("\n");
    expect(more).toEqual([]);
    expect(rest).toMatch(/^é+$/);
    expect(first).toBe(`[… ${6000 - Buffer.byteLength(rest)} bytes earlier in ${spec("").logFile}]`);
    expect(Buffer.byteLength(out.tail)).toBeLessThanOrEqual(1024);
  });

  it("keeps trailing blank lines when the tail is cut", async () => {
    const out = await runStep(spec("seq 1 5; echo; echo"), { tailLines: 3 });
    expect(out.tail.split("\n")).toEqual([`[… 10 bytes earlier in ${spec("").logFile}]`, "", ""]);
  });

  it("streams 50 MB of output with bounded memory and tail", async () => {
    const tailBytes = 16 * 1024;
    // Collect garbage every few MB so that rss measures what is retained, not how lazy the GC is.
    collectGarbage();
    const before = process.memoryUsage().rss;
    let peak = before;
    let nextCheck = 0;
    let reported = 0;
    const out = await runStep(spec("head -c 52428800 /dev/zero | tr '\\0' 'x' | fold -w 100"), {
      onOutput: (bytes) => {
        reported = bytes;
        if (bytes < nextCheck) return;
        nextCheck = bytes + 4 * 1024 * 1024;
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    peak = Math.max(peak, process.memoryUsage().rss);
    const total = 52_428_800 + 52_428_800 / 100 - 1; // fold ends the last line without a newline
    expect(out).toMatchObject({ status: "passed", exitCode: 0, outputBytes: total, error: null });
    expect(reported).toBe(total);
    expect((await stat(spec("").logFile)).size).toBe(total);
    expect(Buffer.byteLength(out.tail)).toBeLessThanOrEqual(tailBytes);
    const lines = out.tail.split("\n");
    expect(lines.length).toBeLessThanOrEqual(60);
    expect(lines[0]).toBe(`[… ${total - (lines.length - 1) * 101 + 1} bytes earlier in ${spec("").logFile}]`);
    expect(lines.slice(1).every((line) => line === "x".repeat(100))).toBe(true);
    expect(peak - before).toBeLessThan(30 * 1024 * 1024);
  });
});
