import { randomUUID } from "node:crypto";
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from "node:fs";
import { appendFile, chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Deps } from "../deps.js";
import { describeError, InputError } from "../errors.js";
import { fixedPrefix } from "./command-mention.js";
import { describeGate, type GateDeps, gateStatus } from "./service.js";

/** The parts of `Deps` this module uses. */
type Uses = GateDeps & Pick<Deps, "cwd" | "env">;

/**
 * A PATH shim named like the reporter's program: the reporter's own command runs only on a green
 * gate, whatever shell spelling reached it; the program's other commands pass straight through.
 */
export const SHIM_MARKER = "# mai-gate shim";

/** What the shim script hands to `mai-gate shim exec`, fixed when it was installed. */
export interface ShimSpec {
  /** The shim's directory, skipped when looking for the real program. */
  dir: string;
  /** The program the shim stands in for (`mai`). */
  program: string;
  /** The reporter's fixed arguments at install time, used when main's config cannot be read. */
  prefix: string[];
}

export type ShimDecision =
  | { action: "run"; path: string }
  | { action: "refuse"; message: string }
  | { action: "missing"; message: string };

/**
 * The real executable `program` resolves to on PATH, skipping `skipDirs` and any file carrying the
 * shim marker; a program given with a slash is taken as it is (unless it is a shim). Null if none.
 */
export function realProgram(
  program: string,
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  skipDirs: string[] = [],
): string | null {
  if (program.includes("/")) return runnable(program) && !isShim(program) ? resolve(program) : null;
  const skip = new Set(skipDirs.map((d) => canonical(resolve(d))));
  for (const entry of (env.PATH ?? "").split(delimiter)) {
    const dir = resolve(entry || ".");
    if (skip.has(canonical(dir))) continue;
    const candidate = join(dir, program);
    if (runnable(candidate) && !isShim(candidate)) return candidate;
  }
  return null;
}

/** Whether the file at `path` is a mai-gate shim (its first bytes carry the marker). */
export function isShim(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(1024);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString("utf8").includes(SHIM_MARKER);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The `#!/bin/sh` script: it runs `node CLI shim exec -- SPEC "$@"`. */
export function shimScript(spec: ShimSpec, node: string, cli: string): string {
  const call = `${spec.program} ${spec.prefix.join(" ")}`.trim();
  return [
    "#!/bin/sh",
    `${SHIM_MARKER}: \`${call} …\` runs only when mai-gate's completion gate is green;`,
    `# other ${spec.program} commands pass through. Written by \`mai-gate shim install\`.`,
    `exec ${shQuote(node)} ${shQuote(cli)} shim exec -- ${shQuote(JSON.stringify(spec))} "$@"`,
    "",
  ].join("\n");
}

export interface InstalledShim {
  path: string;
  spec: ShimSpec;
  /** The pattern added to (or already in) the repository's info/exclude; null outside the worktree. */
  excluded: string | null;
  /** The real program past the shim on this PATH, null if there is none yet. */
  real: string | null;
  /** The Claude Code session env file that now puts the shim first on PATH, if any. */
  envFile: string | null;
}

/**
 * Writes the shim for main's `gate.reporter` into `dir` (default `.mai-gate/bin` in the worktree
 * root), keeps git from seeing it, and, when run by a Claude Code SessionStart hook
 * (`CLAUDE_ENV_FILE` set), puts the directory first on the session's PATH. Idempotent.
 */
export async function installShim(
  ws: Uses,
  options: { dir?: string | undefined; node: string; cli: string },
): Promise<InstalledShim> {
  const view = await ws.view();
  const reporter = view.loaded.config.gate?.reporter;
  const fixed = reporter ? fixedPrefix(reporter) : [];
  const program = fixed[0] === undefined ? "" : basename(fixed[0]);
  if (!program || program === "." || program === "..") {
    throw new InputError(
      "main's mai-gate.yaml names no reporter program (gate.reporter), so there is nothing to shim",
      'Set gate.reporter, e.g. ["mai", "report", "completed", "{summary}"], on main.',
    );
  }
  const dir = options.dir ? resolve(ws.cwd, options.dir) : join(view.repo.root, ".mai-gate", "bin");
  const spec: ShimSpec = { dir, program, prefix: fixed.slice(1) };
  const path = join(dir, program);
  if (runnable(path) && !isShim(path)) {
    throw new InputError(
      `${path} exists and is not a mai-gate shim`,
      "Choose another DIR, or move that file.",
    );
  }
  await mkdir(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, shimScript(spec, options.node, options.cli));
  await chmod(temp, 0o755);
  await rename(temp, path);
  return {
    path,
    spec,
    excluded: await excludeFromGit(view.repo, dir),
    real: realProgram(program, ws.env, [dir]),
    envFile: await prependToSessionPath(ws.env.CLAUDE_ENV_FILE, dir),
  };
}

/** Adds the shim directory (`/.mai-gate/` by default) to info/exclude under the git common dir. */
async function excludeFromGit(
  repo: { root: string; commonDir: string },
  dir: string,
): Promise<string | null> {
  const rel = relative(canonical(repo.root), canonical(dir));
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return null;
  const top = rel.split(sep)[0]!;
  const pattern = top === ".mai-gate" ? "/.mai-gate/" : `/${rel.split(sep).join("/")}/`;
  const file = join(repo.commonDir, "info", "exclude");
  const text = await readFile(file, "utf8").catch(() => "");
  if (text.split("\n").some((line) => line.trim() === pattern)) return pattern;
  await mkdir(dirname(file), { recursive: true });
  const lead = text === "" || text.endsWith("\n") ? "" : "\n";
  await appendFile(file, `${lead}# mai-gate shim install\n${pattern}\n`);
  return pattern;
}

async function prependToSessionPath(envFile: string | undefined, dir: string): Promise<string | null> {
  if (!envFile) return null;
  const line = `export PATH=${shQuote(dir)}:"$PATH"`;
  const text = await readFile(envFile, "utf8").catch(() => "");
  if (!text.split("\n").includes(line)) {
    const lead = text === "" || text.endsWith("\n") ? "" : "\n";
    await appendFile(envFile, `${lead}${line}\n`);
  }
  return envFile;
}

/**
 * What `shim exec` does with `args`: the reporter's command (its fixed arguments in order among
 * `args`) runs the real program only on a green gate for the worktree of the current directory,
 * and is refused with the reasons when the gate is red or cannot be judged (fail closed); any
 * other command runs the real program without a gate.
 */
export async function shimDecision(ws: Uses, spec: ShimSpec, args: string[]): Promise<ShimDecision> {
  const call = [spec.program, ...args].join(" ");
  let prefix: string[] | null = spec.prefix;
  let unreadable: unknown = null;
  try {
    const fixed = fixedPrefix((await ws.view()).loaded.config.gate?.reporter ?? []);
    prefix = fixed[0] !== undefined && basename(fixed[0]) === spec.program ? fixed.slice(1) : null;
  } catch (err) {
    unreadable = err;
  }
  if (prefix !== null && inOrder(prefix, args)) {
    if (unreadable !== null) return cannotJudge(call, unreadable);
    try {
      const gate = await gateStatus(ws, {});
      if (!gate.green) {
        const why = `mai-gate: the completion gate is red, so \`${call}\` is refused.\n${describeGate(gate)}`;
        return { action: "refuse", message: why };
      }
    } catch (err) {
      return cannotJudge(call, err);
    }
  }
  const path = realProgram(spec.program, ws.env, [spec.dir]);
  if (path !== null) return { action: "run", path };
  const message = `mai-gate shim: no real \`${spec.program}\` on PATH past ${spec.dir} (and past other mai-gate shims).`;
  return { action: "missing", message };
}

function cannotJudge(call: string, err: unknown): ShimDecision {
  const message = `mai-gate: cannot judge the completion gate, so \`${call}\` is refused.\n${describeError(err)}`;
  return { action: "refuse", message };
}

function inOrder(words: string[], args: string[]): boolean {
  let j = 0;
  for (const a of args) if (j < words.length && a === words[j]) j++;
  return j === words.length;
}

function runnable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A word for `sh`, in single quotes. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
