import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { MAIN_CANDIDATES } from "../config/main-ref.js";
import { fixedPrefix, mayMention } from "./command-mention.js";

/**
 * The PreToolUse hook runs before every shell command a worker runs, so a command that cannot run
 * the reporter must be let through at about the cost of starting node. What the reporter's program
 * is depends only on main's config; the full hook (`hooks.ts`) remembers it here, next to the state
 * file, keyed by the commits of the refs main's config is read from. This module uses node's
 * built-ins only: it loads no parser, no YAML, no schema and no process library.
 *
 * The hook is the early warning; the PATH shim and the head's verification enforce (README: three
 * places). A stale or missing entry only sends the command to the full hook.
 */
const FILE = "hook-reporter.json";

interface Remembered {
  key: string;
  /** The reporter's program (basename, lower case); null when no reporter is configured. */
  program: string | null;
}

/** The refs main's config is read from, as a key: MAI_GATE_MAIN and each candidate's commit. */
export function mainRefsKey(
  env: Record<string, string | undefined>,
  shaOf: (shortRef: string) => string | undefined,
): string {
  const named = env.MAI_GATE_MAIN?.trim() || null;
  const candidates = named ? [named] : MAIN_CANDIDATES;
  return JSON.stringify([named, candidates.map((ref) => [ref, shaOf(ref) ?? null])]);
}

/** Called by the full hook once it has read main's config: what the fast path needs next time. */
export function rememberReporter(commonDir: string, key: string, reporter: string[] | undefined): void {
  const prefix = reporter ? fixedPrefix(reporter) : [];
  const remembered: Remembered = {
    key,
    program: prefix[0] ? basename(prefix[0]).toLowerCase() : null,
  };
  const dir = join(commonDir, "mai-gate");
  const tmp = join(dir, `${FILE}.${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(remembered));
    renameSync(tmp, join(dir, FILE));
  } catch {
    // An economy: without it the next hook reads the config again.
  }
}

/**
 * True when the command certainly does not run the reporter (or is not a shell command at all), as
 * far as the remembered reporter of main's current config tells; false sends it to the full hook.
 */
export function certainlyNotAReport(
  input: { tool_name?: unknown; tool_input?: { command?: unknown }; cwd?: unknown },
  env: Record<string, string | undefined>,
): boolean {
  const command = input.tool_input?.command;
  if (input.tool_name !== "Bash" || typeof command !== "string") return true;
  const cwd = typeof input.cwd === "string" ? input.cwd : process.cwd();
  const remembered = readRemembered(cwd, env);
  if (!remembered) return false;
  return remembered.program === null || !mayMention(command, remembered.program);
}

function readRemembered(cwd: string, env: Record<string, string | undefined>): Remembered | null {
  try {
    const common = git(cwd, ["rev-parse", "--git-common-dir"]).trim();
    const commonDir = isAbsolute(common) ? common : resolve(cwd, common);
    const remembered = JSON.parse(readFileSync(join(commonDir, "mai-gate", FILE), "utf8")) as Remembered;
    const named = env.MAI_GATE_MAIN?.trim() || null;
    const candidates = named ? [named] : MAIN_CANDIDATES;
    const patterns = candidates.flatMap((ref) => [`refs/heads/${ref}`, `refs/remotes/${ref}`]);
    const listed = git(cwd, ["for-each-ref", "--format=%(objectname) %(refname)", ...patterns]);
    const shas = new Map<string, string>();
    for (const line of listed.split("\n")) {
      const [sha, full] = line.split(" ");
      if (sha && full) shas.set(full, sha);
    }
    // As `readRefs` names them: a remote-tracking ref wins over a local branch of the same short name.
    const key = mainRefsKey(env, (ref) => shas.get(`refs/remotes/${ref}`) ?? shas.get(`refs/heads/${ref}`));
    return remembered.key === key ? remembered : null;
  } catch {
    return null;
  }
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    timeout: 5_000,
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
  });
}
