import { mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { execa, Result } from "execa";
import { errorMessage } from "../errors.js";
import { loadExeca } from "../exec.js";
import { formatTail, Ring } from "./tail.js";

export interface StepSpec {
  name: string;
  /** One shell string (run with `/bin/sh -c`) or an argv (no shell). */
  run: string | string[];
  /** Absolute, already validated by the caller. */
  cwd: string;
  timeoutMs: number;
  /** Added to `process.env`. */
  env?: Record<string, string>;
  /** Absolute path; created (parent dirs too); receives stdout and stderr interleaved as they arrive. */
  logFile: string;
}

export interface StepOutcome {
  /** `not_found`: the command does not exist (ENOENT, or exit 127 from the shell). */
  status: "passed" | "failed" | "timed_out" | "cancelled" | "not_found";
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Total bytes written to the log. */
  outputBytes: number;
  /** The last lines of output, at most `tailLines` lines and `tailBytes` bytes, marker line included. */
  tail: string;
  /** Spawn errors etc., one line. */
  error: string | null;
}

export interface RunStepOptions {
  signal?: AbortSignal;
  tailLines?: number;
  tailBytes?: number;
  /** Called as output arrives with the running total of bytes written to the log. */
  onOutput?: (bytes: number) => void;
}

const DEFAULT_TAIL_LINES = 60;
const DEFAULT_TAIL_BYTES = 16 * 1024;
/** Between SIGTERM and SIGKILL to the group. */
const KILL_GRACE_MS = 2_000;
/** How long to keep reading after the step exited when something outside its group holds the pipe. */
const DRAIN_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Ending {
  exitCode: number | null;
  signal: string | null;
  reason: "timeout" | "cancel" | null;
  /** The command could not be started; `missing`: it does not exist (and the cwd does). */
  spawnError: { missing: boolean; message: string } | null;
  /** Set when something outside the group held the output open after the step exited. */
  abandonedOutput: boolean;
  error: string | null;
}

/**
 * Runs one step in its own process group, streaming its output to `spec.logFile` and keeping only a
 * bounded tail in memory. Process failures are values; only programmer errors throw.
 */
export async function runStep(spec: StepSpec, options: RunStepOptions = {}): Promise<StepOutcome> {
  const tailLines = options.tailLines ?? DEFAULT_TAIL_LINES;
  const tailBytes = options.tailBytes ?? DEFAULT_TAIL_BYTES;
  if (tailLines < 2 || tailBytes < Buffer.byteLength(spec.logFile) + 64) {
    throw new RangeError("runStep: tailLines must be ≥ 2 and tailBytes ≥ the log path + 64 bytes");
  }
  await mkdir(dirname(spec.logFile), { recursive: true });
  const log = (await open(spec.logFile, "w")).createWriteStream();
  const started = performance.now();
  const ring = new Ring(tailBytes);
  let outputBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      ring.push(bytes);
      outputBytes += bytes.length;
      try {
        options.onOutput?.(outputBytes);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      done(null, bytes);
    },
  });
  const ending = await execute(spec, tap, log, options.signal);
  return {
    status: classify(spec, ending),
    exitCode: ending.exitCode,
    signal: ending.signal,
    durationMs: Math.round(performance.now() - started),
    outputBytes,
    tail: formatTail(ring.contents(), outputBytes, spec.logFile, tailLines, tailBytes),
    error: ending.error === null ? null : oneLine(ending.error),
  };
}

async function execute(spec: StepSpec, tap: Transform, log: Writable, signal?: AbortSignal): Promise<Ending> {
  const ending: Ending = { ...NOT_ENDED };
  if (signal?.aborted) {
    await pipeline([], log);
    return { ...ending, reason: "cancel", error: "cancelled before it started" };
  }
  const [file, args] =
    typeof spec.run === "string" ? ["/bin/sh", ["-c", spec.run]] : [spec.run[0] ?? "", spec.run.slice(1)];
  const { execa } = await loadExeca();
  const subprocess = execa(file, args, {
    cwd: spec.cwd,
    env: spec.env,
    stdin: "ignore",
    all: true,
    buffer: false,
    reject: false,
    detached: true,
    cancelSignal: signal,
    forceKillAfterDelay: KILL_GRACE_MS,
  });
  const output = subprocess.all
    ? pipeline(subprocess.all, tap, log).then(
        () => null,
        (err: unknown) =>
          ending.abandonedOutput ? null : `copying the output to the log failed: ${errorMessage(err)}`,
      )
    : pipeline([], log).then(() => null);
  const stopSupervising =
    subprocess.pid === undefined
      ? () => {}
      : supervise(subprocess, subprocess.pid, spec.timeoutMs, signal, ending);
  const result = await subprocess;
  stopSupervising();
  const logError = await output;
  ending.spawnError = await spawnError(result, spec.cwd);
  ending.exitCode ??= result.exitCode ?? null;
  ending.signal ??= result.signal ?? null;
  ending.error = describe(spec, ending, logError);
  return ending;
}

const NOT_ENDED: Ending = {
  exitCode: null,
  signal: null,
  reason: null,
  spawnError: null,
  abandonedOutput: false,
  error: null,
};

/** Why the command could not be started, if it could not (it then has neither exit code nor signal). */
async function spawnError(result: Result, cwd: string): Promise<Ending["spawnError"]> {
  const { ExecaError } = await loadExeca();
  if (!(result instanceof ExecaError) || result.exitCode !== undefined || result.signal !== undefined)
    return null;
  const cwdExists = await stat(cwd).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return {
    missing: result.code === "ENOENT" && cwdExists,
    message: result.originalMessage || result.shortMessage,
  };
}

/** Timeout, cancellation and clean-up, all aimed at the step's whole process group. */
function supervise(
  subprocess: ReturnType<typeof execa>,
  pid: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  ending: Ending,
): () => void {
  liveGroups.add(pid);
  ensureExitHook();
  let killTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  const terminate = (reason: "timeout" | "cancel") => {
    const exited = ending.exitCode !== null || ending.signal !== null;
    if (ending.reason !== null || exited) return;
    ending.reason = reason;
    killGroup(pid, "SIGTERM");
    killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => terminate("timeout"), Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS));
  const onAbort = () => terminate("cancel");
  signal?.addEventListener("abort", onAbort, { once: true });
  subprocess.once("exit", (code: number | null, sig: NodeJS.Signals | null) => {
    ending.exitCode = code;
    ending.signal = sig;
    clearTimeout(timeout);
    clearTimeout(killTimer);
    killGroup(pid, "SIGKILL");
    liveGroups.delete(pid);
    drainTimer = setTimeout(() => {
      ending.abandonedOutput = true;
      ending.error = "a process outside the step's process group kept its output open; stopped reading";
      subprocess.stdout?.destroy();
      subprocess.stderr?.destroy();
    }, DRAIN_GRACE_MS);
  });
  return () => {
    clearTimeout(timeout);
    clearTimeout(killTimer);
    clearTimeout(drainTimer);
    signal?.removeEventListener("abort", onAbort);
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Groups still running, killed if this process exits first (execa's own clean-up skips detached children). */
const liveGroups = new Set<number>();
let exitHooked = false;
function ensureExitHook(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once("exit", () => {
    for (const pid of liveGroups) killGroup(pid, "SIGKILL");
  });
}

function classify(spec: StepSpec, ending: Ending): StepOutcome["status"] {
  if (ending.spawnError) return ending.spawnError.missing ? "not_found" : "failed";
  if (ending.reason === "timeout") return "timed_out";
  if (ending.reason === "cancel") return "cancelled";
  if (ending.exitCode === 0) return "passed";
  if (ending.exitCode === 127 && typeof spec.run === "string") return "not_found";
  return "failed";
}

function describe(spec: StepSpec, ending: Ending, logError: string | null): string | null {
  const parts: string[] = [];
  if (ending.spawnError) parts.push(ending.spawnError.message);
  if (ending.reason === "timeout")
    parts.push(`timed out after ${spec.timeoutMs} ms; the process group was killed`);
  if (ending.reason === "cancel") parts.push("cancelled; the process group was killed");
  if (ending.error) parts.push(ending.error);
  if (logError) parts.push(logError);
  return parts.length > 0 ? parts.join("; ") : null;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
