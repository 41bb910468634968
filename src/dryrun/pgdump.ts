import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorMessage, MaiGateError } from "../errors.js";
import { loadExeca } from "../exec.js";

export class BaselineError extends MaiGateError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super("baseline", message, options);
  }
}

/** The major version of a pg_dump binary, e.g. 15 for "pg_dump (PostgreSQL) 15.19 (Debian …)". */
export async function pgDumpMajor(bin: string): Promise<{ major: number; text: string }> {
  const { execa } = await loadExeca();
  const r = await execa(bin, ["--version"], { reject: false, timeout: 10_000 }).catch((err: unknown) => ({
    exitCode: undefined,
    stdout: "",
    stderr: errorMessage(err),
  }));
  const text = String(r.stdout).trim();
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(text);
  if (r.exitCode !== 0 || !m) {
    throw new BaselineError(
      `pg_dump is not usable (${bin}): ${String(r.stderr).trim() || text || "no version"}`,
      {
        hint: "Install the PostgreSQL client matching production (e.g. apt install postgresql-client-16), or set scratch.pg_dump, or use scratch.baseline: replay.",
      },
    );
  }
  return { major: Number(m[1]), text };
}

/** pg_dump refuses (or silently mis-dumps) a newer server: say so before running it. */
export function checkPgDumpAgainst(dump: { major: number; text: string }, serverVersionNum: number): void {
  const serverMajor = Math.floor(serverVersionNum / 10_000);
  if (dump.major < serverMajor) {
    throw new BaselineError(`pg_dump ${dump.major} is older than production's PostgreSQL ${serverMajor}`, {
      hint: `Install postgresql-client-${serverMajor} and point scratch.pg_dump at its pg_dump.`,
    });
  }
}

/**
 * A schema-only dump of production: `--no-owner --no-privileges`, over the read-only DSN, with the
 * session forced read-only and bounded by a statement timeout. pg_dump itself reads in a
 * `REPEATABLE READ, READ ONLY` transaction.
 */
export async function dumpSchema(
  bin: string,
  dsn: string,
  options: { timeoutMs: number; statementTimeoutMs: number; connectTimeoutMs: number },
): Promise<string> {
  const { dsn: bare, password } = splitSecret(dsn);
  // The password never reaches argv (visible in ps to every user): a 0600 passfile, removed after.
  const dir = password === null ? null : await mkdtemp(join(tmpdir(), "mai-gate-pgpass-"));
  const passfile = dir === null ? null : join(dir, "pgpass");
  if (passfile)
    await writeFile(passfile, `*:*:*:*:${password!.replace(/[\\:]/g, "\\$&")}\n`, { mode: 0o600 });
  try {
    const { execa } = await loadExeca();
    const r = await execa(bin, ["--schema-only", "--no-owner", "--no-privileges", "--dbname", bare], {
      reject: false,
      timeout: options.timeoutMs,
      maxBuffer: 512 * 1024 * 1024,
      env: {
        PGOPTIONS: `-c default_transaction_read_only=on -c statement_timeout=${options.statementTimeoutMs}`,
        PGCONNECT_TIMEOUT: String(Math.max(1, Math.ceil(options.connectTimeoutMs / 1000))),
        PGAPPNAME: "mai-gate",
        ...(passfile ? { PGPASSFILE: passfile } : {}),
      },
    });
    if (r.exitCode !== 0) {
      const why = r.timedOut
        ? `timed out after ${options.timeoutMs} ms`
        : r.stderr.trim().split("\n").slice(-2).join(" ");
      throw new BaselineError(`pg_dump of production failed: ${redact(why, password)}`, {
        hint: "Check prod.dsn and that its role may read the schema; or use scratch.baseline: replay meanwhile.",
      });
    }
    return r.stdout;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A DSN without its password, and the password: `postgres://u:pw@h/db` or the keyword form
 * `host=h password=pw`. What is left is safe to put in argv and logs.
 */
export function splitSecret(dsn: string): { dsn: string; password: string | null } {
  if (/^postgres(ql)?:\/\//.test(dsn)) {
    try {
      const url = new URL(dsn);
      const password = url.password ? decodeURIComponent(url.password) : url.searchParams.get("password");
      url.password = "";
      url.searchParams.delete("password");
      return { dsn: url.toString(), password: password || null };
    } catch {
      return { dsn: "(an unparseable DSN)", password: null };
    }
  }
  const m = /(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/.exec(dsn);
  if (!m) return { dsn, password: null };
  const raw = m[1]!.startsWith("'") ? m[1]!.slice(1, -1).replace(/\\(.)/g, "$1") : m[1]!;
  return { dsn: dsn.replace(m[0], "").trim(), password: raw };
}

/**
 * Plain dumps carry psql meta-commands (`\restrict`, `\unrestrict`, `\connect`) that only psql
 * understands; the statements around them are plain SQL.
 */
export function stripPsqlMeta(dump: string): string {
  return dump
    .split("\n")
    .filter((line) => !line.startsWith("\\"))
    .join("\n");
}

/**
 * A production dump as the scratch role can restore it: no psql meta-commands, and no `COMMENT ON
 * EXTENSION` lines (only the extension's owner may comment on it, and the admin connection made it;
 * a comment changes nothing a migration can see). pg_stat_statements, which site safety reads, dumps one.
 */
export function restorableDump(dump: string): string {
  return stripPsqlMeta(dump)
    .split("\n")
    .filter((line) => !line.startsWith("COMMENT ON EXTENSION "))
    .join("\n");
}

function redact(text: string, password: string | null): string {
  return password ? text.replaceAll(password, "***") : text;
}
