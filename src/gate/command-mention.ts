/**
 * The hook's fast path: whether a command can mention the reporter's program at all, read without
 * the shell parser (it runs before every shell command a worker runs). `command-match.ts` decides
 * for the commands that may.
 */

/** The reporter's fixed leading words: those before the first `{placeholder}`. */
export function fixedPrefix(argv: string[]): string[] {
  const end = argv.findIndex((a) => a.includes("{"));
  return end < 0 ? argv : argv.slice(0, end);
}

/**
 * Whether `name` can appear in the command as a word of its own once quotes and backslashes are
 * gone (`m'a'i`, `\mai`, `/usr/bin/mai`, `a=mai`). Cheap, no parser: the hook's fast path.
 */
export function mayMention(command: string, name: string): boolean {
  const bare = command.replace(/\\\n/g, "").replace(/\$?['"]|\\/g, "");
  return tokenPattern(name).test(bare);
}

export function tokenPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}([^A-Za-z0-9_]|$)`, "i");
}
