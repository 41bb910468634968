/**
 * Domain errors. Services throw these; `toToolError` (tools/result.ts) and the CLI turn them into
 * an answer that says what went wrong and what to do next. Anything else is unexpected and logged.
 */
export type ErrorCode =
  | "bad_input"
  | "config"
  | "not_a_repository"
  | "git"
  | "migrations_dir"
  | "forbidden"
  | "not_found"
  | "identity"
  | "production"
  | "state"
  | "scratch"
  | "baseline"
  | "deploy_source"
  | "deploy_config"
  | "cancelled";

export class MaiGateError extends Error {
  readonly code: ErrorCode;
  /** The next step for the caller, in one sentence. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

export class InputError extends MaiGateError {
  constructor(message: string, hint?: string) {
    super("bad_input", message, { hint });
  }
}

export class ConfigError extends MaiGateError {
  /** Dotted path of the offending key, e.g. `migrations.layout`; empty for the file as a whole. */
  readonly key: string;
  constructor(key: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("config", key ? `mai-gate.yaml: ${key}: ${message}` : `mai-gate.yaml: ${message}`, options);
    this.key = key;
  }
}

export class NotARepositoryError extends MaiGateError {
  constructor(cwd: string, cause?: unknown) {
    super("not_a_repository", `${cwd} is not inside a git repository`, {
      hint: "Start mai-gate in the worker's worktree (the client's cwd), or set the working directory of the server in .mcp.json.",
      cause,
    });
  }
}

/** The caller gave up (the tool call's abort signal): nothing was recorded, nothing is left behind. */
export class CancelledError extends MaiGateError {
  constructor(what: string) {
    super("cancelled", `${what} was cancelled by the caller: nothing was recorded`, {
      hint: "Call it again when you want the answer.",
    });
  }
}

export class GitError extends MaiGateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("git", message, options);
  }
}

export class MigrationsDirError extends MaiGateError {
  constructor(message: string, hint?: string) {
    super("migrations_dir", message, { hint });
  }
}

export class ForbiddenError extends MaiGateError {
  constructor(message: string, hint?: string) {
    super("forbidden", message, { hint });
  }
}

export class NotFoundError extends MaiGateError {
  constructor(message: string, hint?: string) {
    super("not_found", message, { hint });
  }
}

export class IdentityError extends MaiGateError {
  constructor(message: string, hint?: string) {
    super("identity", message, { hint });
  }
}

export class ProductionError extends MaiGateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("production", message, options);
  }
}

export class StateError extends MaiGateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("state", message, options);
  }
}

/** The message of any thrown value, for reports that must not crash on odd throwables. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** One line: what went wrong, then what to do. */
export function describeError(err: unknown): string {
  if (err instanceof MaiGateError) return err.hint ? `${err.message}\nNext step: ${err.hint}` : err.message;
  return `Unexpected error: ${errorMessage(err)}`;
}
