import { loadExeca } from "../exec.js";

/** One git invocation's outcome. Failures are values; callers decide what they mean. */
export interface GitResult<T = string> {
  ok: boolean;
  exitCode: number | undefined;
  stdout: T;
  stderr: string;
  timedOut: boolean;
}

export interface GitRunOptions {
  input?: string;
  timeoutMs?: number;
  cancelSignal?: AbortSignal;
}

/** The git process behind an interface: services ask for git, tests give them a real one. */
export interface Git {
  readonly cwd: string;
  run(args: string[], options?: GitRunOptions): Promise<GitResult>;
  runBuffer(args: string[], options?: GitRunOptions): Promise<GitResult<Buffer>>;
}

/** Never wait on a terminal prompt or an editor: a server has no one to answer it. */
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_ASKPASS: "",
  SSH_ASKPASS: "",
  GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? "ssh -o BatchMode=yes",
  GIT_EDITOR: "true",
  LC_ALL: "C",
};

export function createGit(cwd: string): Git {
  const base = (options: GitRunOptions) => ({
    cwd,
    reject: false,
    env: GIT_ENV,
    timeout: options.timeoutMs,
    forceKillAfterDelay: 1000,
    cancelSignal: options.cancelSignal,
    stripFinalNewline: false,
  });
  return {
    cwd,
    async run(args, options = {}) {
      const { execa } = await loadExeca();
      const r = await execa("git", args, { ...base(options), input: options.input ?? "" });
      return {
        ok: r.exitCode === 0 && !r.failed,
        exitCode: r.exitCode,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.timedOut,
      };
    },
    async runBuffer(args, options = {}) {
      const { execa } = await loadExeca();
      const r = await execa("git", args, {
        ...base(options),
        input: options.input ?? "",
        encoding: "buffer",
      });
      return {
        ok: r.exitCode === 0 && !r.failed,
        exitCode: r.exitCode,
        stdout: Buffer.from(r.stdout),
        stderr: Buffer.from(r.stderr).toString("utf8"),
        timedOut: r.timedOut,
      };
    },
  };
}
