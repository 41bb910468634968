/** Reading the commands a container runs: its health check test and its start command. */
import type { StartCommand } from "./settings.js";

/** Why a health check test does not show readiness, or null when it asks the app over HTTP. */
export function notReadiness(test: string[]): string | null {
  const [kind, ...rest] = test;
  const script = (kind === "CMD" || kind === "CMD-SHELL" ? rest : test).join(" ").trim();
  if (/^(true|:|\/bin\/true|exit\s+0)$/.test(script)) return `it always succeeds (\`${script}\`)`;
  const tail = /(\|\||;)\s*(true|:|exit\s+0)\s*$/.exec(script);
  if (tail) return `it always succeeds: \`${tail[0].trim()}\` turns every failure into success`;
  const url = /https?:\/\/[^\s"'`]+/.exec(script)?.[0];
  if (url) return httpProblem(script, url);
  if (/\b(pgrep|pidof)\b/.test(script)) return "it only checks that a process exists (pgrep/pidof)";
  if (/(^|[\s;|&(])ps(\s|$)/.test(script)) return "it only checks that a process exists (ps)";
  if (/\bkill\s+-0\b/.test(script)) return "it only checks that a process exists (kill -0)";
  if (/(\btest|\[)\s+-[edfs]\s+\/proc\//.test(script))
    return "it only checks that a process exists (a /proc entry)";
  if (/\bnc\s+(-\w*z|-z)\b/.test(script)) return "it only checks that a port is open (nc -z)";
  return null;
}

function httpProblem(script: string, url: string): string | null {
  let path = "";
  try {
    path = new URL(url).pathname;
  } catch {
    path = url;
  }
  if (!/(ready|health)/i.test(path))
    return `it asks ${url}, which is not a readiness endpoint (a path like /readyz or /healthz)`;
  const curl = /\bcurl\b(.*)/.exec(script)?.[1];
  if (curl !== undefined && !hasFailFlag(curl) && !/\bgrep\b|\s-w\s|--write-out/.test(script))
    return "curl without --fail exits 0 on an HTTP error status, so a 503 from the app passes";
  return null;
}

function hasFailFlag(args: string): boolean {
  return args.split(/\s+/).some((t) => /^--fail(-with-body)?$/.test(t) || /^-[a-zA-Z]*f[a-zA-Z]*$/.test(t));
}

/** A start command that runs migrations: what to keep, and what to run before the deploy instead. */
export interface MigrationUse {
  /** The word that gave it away, e.g. "-migrate" or "goose … up". */
  matched: string;
  /** The command without the migration, in its original form; null when it is only a migration. */
  kept: string[] | null;
  /** The migration as a command line to run as a pre-deploy step. */
  removed: string;
}

const SHELLS = /^(\/(usr\/)?bin\/)?(sh|bash|ash|dash|zsh)$/;

/** Does `cmd` run migrations? `extra` are the app's own migrate commands (substring match). */
export function findMigration(cmd: StartCommand, extra: string[]): MigrationUse | null {
  const shellAt = cmd.items.findIndex((item, i) => i > 0 && /^-\w*c$/.test(item));
  const isShell = cmd.form === "list" && shellAt === 1 && SHELLS.test(cmd.items[0] ?? "");
  if (cmd.form === "list" && !isShell) {
    const use = inSegment(cmd.items, extra);
    if (!use) return null;
    if (!use.flag) return { matched: use.matched, kept: null, removed: cmd.items.join(" ") };
    const kept = cmd.items.filter((t) => t !== use.matched);
    return { matched: use.matched, kept, removed: withProgram(cmd.items, use.matched) };
  }
  const scriptAt = isShell ? shellAt + 1 : 0;
  const script = cmd.items.slice(scriptAt).join(" ");
  const result = inScript(script, extra);
  if (!result) return null;
  if (result.kept === null) return { ...result, kept: null };
  const kept = isShell ? [...cmd.items.slice(0, scriptAt), result.kept] : [result.kept];
  return { matched: result.matched, kept, removed: result.removed };
}

function inScript(
  script: string,
  extra: string[],
): { matched: string; kept: string | null; removed: string } | null {
  const segments = script
    .split(/\s*(?:&&|\|\||;|\n)\s*/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  let matched: string | null = null;
  const kept: string[] = [];
  const removed: string[] = [];
  for (const segment of segments) {
    const use = inSegment(words(segment), extra);
    if (!use) {
      kept.push(segment);
      continue;
    }
    matched ??= use.matched;
    if (use.flag) {
      const without = segment.replace(` ${use.matched}`, "");
      kept.push(without);
      removed.push(withProgram(words(segment), use.matched));
    } else removed.push(segment.replace(/^exec\s+/, ""));
  }
  if (matched === null) return null;
  return { matched, kept: kept.length > 0 ? kept.join(" && ") : null, removed: removed.join(" && ") };
}

/** "/app -migrate": the flag with the program it belongs to (when the flag is not the program). */
function withProgram(tokens: string[], flag: string): string {
  const program = tokens[0] === flag ? "" : (tokens[0] ?? "");
  return `${program} ${flag}`.trim();
}

function words(segment: string): string[] {
  return segment
    .split(/\s+/)
    .map((w) => w.replace(/^["']|["']$/g, ""))
    .filter((w) => w !== "");
}

const MIGRATOR_VERBS: Record<string, string[]> = {
  goose: ["up", "up-by-one", "up-to"],
  dbmate: ["up", "migrate"],
  "sql-migrate": ["up"],
  alembic: ["upgrade"],
};

function inSegment(tokens: string[], extra: string[]): { matched: string; flag: boolean } | null {
  for (const [i, token] of tokens.entries()) {
    if (/^--?migrate(=(true|1|yes|up))?$/i.test(token)) return { matched: token, flag: true };
    const base = token.split("/").pop() ?? token;
    if (/^(migrate(\.sh)?|db:migrate|migrate:\S+)$/i.test(base)) return { matched: token, flag: false };
    const verbs = MIGRATOR_VERBS[base];
    const verb = verbs ? tokens.slice(i + 1).find((t) => verbs.includes(t)) : undefined;
    if (verb) return { matched: `${base} … ${verb}`, flag: false };
  }
  const joined = tokens.join(" ");
  const own = extra.map((e) => e.trim()).find((e) => e !== "" && joined.includes(e));
  if (own) return { matched: own, flag: own.startsWith("-") && tokens.includes(own) };
  return null;
}
