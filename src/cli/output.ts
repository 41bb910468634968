import { describeError, InputError } from "../errors.js";

/** A command line that is wrong in itself (a missing argument, an unknown option value): exit 2. */
export class UsageError extends InputError {}

/** CLI output: results on stdout, problems on stderr. (The server never writes to stdout.) */
export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function fail(err: unknown, code = 1): number {
  process.stderr.write(`mai-gate: ${describeError(err)}\n`);
  return code;
}

export function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** A plain text table, columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
