import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { errorMessage } from "../errors.js";
import { loadExeca } from "../exec.js";

/** One squawk finding, lines 1-based. */
export interface LintFinding {
  rule: string;
  level: string;
  message: string;
  help: string | null;
  line: number;
  column: number;
}

export type LintOutcome = { ok: true; findings: Map<string, LintFinding[]> } | { ok: false; error: string };

interface SquawkJson {
  file: string;
  line: number;
  column: number;
  level: string;
  message: string;
  help: string | null;
  rule_name: string;
}

const require = createRequire(import.meta.url);

/** The squawk binary shipped by squawk-cli's platform package (no wrapper process in between). */
function squawkBinary(): string {
  const pkg = `@squawk-cli/${process.platform}-${process.arch}`;
  const from = dirname(require.resolve("squawk-cli/package.json"));
  try {
    return require.resolve(`${pkg}/bin/squawk`, { paths: [from] });
  } catch {
    return join(from, "js", "bin", "squawk");
  }
}

/**
 * Lints migration files with squawk (JSON reporter) in one process. A squawk that cannot run is an
 * outcome the report shows, never a failed dry run.
 */
export async function lintMigrations(
  files: { path: string; absolute: string }[],
  options: { pgVersion?: string; assumeInTransaction: boolean; ignore?: string[]; timeoutMs?: number },
): Promise<LintOutcome> {
  if (files.length === 0) return { ok: true, findings: new Map() };
  const args = ["--reporter", "json"];
  if (options.pgVersion) args.push("--pg-version", options.pgVersion);
  if (options.assumeInTransaction) args.push("--assume-in-transaction");
  if (options.ignore && options.ignore.length > 0) args.push(`--exclude=${options.ignore.join(",")}`);
  const { execa } = await loadExeca();
  const r = await execa(squawkBinary(), [...args, ...files.map((f) => f.absolute)], {
    reject: false,
    timeout: options.timeoutMs ?? 20_000,
  }).catch((err: unknown) => ({ failed: true, exitCode: undefined, stdout: "", stderr: errorMessage(err) }));
  if (r.exitCode !== 0 && r.exitCode !== 1) {
    return {
      ok: false,
      error: `squawk could not run: ${String(r.stderr).trim().split("\n")[0] ?? "no output"}`,
    };
  }
  let parsed: SquawkJson[];
  try {
    parsed = JSON.parse(String(r.stdout) || "[]") as SquawkJson[];
  } catch (err) {
    return { ok: false, error: `squawk's JSON could not be read: ${errorMessage(err)}` };
  }
  const byAbsolute = new Map(files.map((f) => [f.absolute, f.path]));
  const findings = new Map<string, LintFinding[]>(files.map((f) => [f.path, []]));
  for (const item of parsed) {
    const path = byAbsolute.get(item.file) ?? item.file;
    findings.get(path)?.push({
      rule: item.rule_name,
      level: item.level.toLowerCase(),
      message: item.message,
      help: item.help,
      line: item.line + 1,
      column: item.column + 1,
    });
  }
  return { ok: true, findings };
}
