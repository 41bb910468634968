import { basename } from "node:path";
import { fixedPrefix, mayMention, tokenPattern } from "./command-mention.js";
import { invocations } from "./command-wrappers.js";
import { list, nodesOf, parseScript, type ShellWord, type ShNode, shellWord } from "./shell-words.js";

/** How deep `sh -c 'eval "…"'` and the like are followed before the command counts as undecidable. */
const MAX_DEPTH = 8;

/**
 * Whether a shell command line runs the reporter, read with a real shell parser (mvdan-sh).
 * It runs it when the reporter's program (matched by basename, case-insensitively) is a command
 * word anywhere — in compound commands, pipelines, function bodies, command and process
 * substitutions, behind wrappers (`env`, `nice`, `timeout`, `sudo`, `xargs`, `find -exec`, …) and
 * inside static `sh -c` / `eval` text — with the reporter's fixed arguments among its arguments in
 * order. A command that cannot be decided statically (a command word built from `$…`, a shell
 * reading stdin or a file, `source`, `eval "$x"`) or does not parse counts when it names the
 * program. A command that does not name it is answered without loading the parser.
 */
export function invokesReporter(command: string, reporter: string[]): boolean {
  const prefix = fixedPrefix(reporter);
  if (prefix.length === 0) return false;
  const program = basename(prefix[0]!).toLowerCase();
  if (!mayMention(command, program)) return false;
  const file = parseScript(command);
  if (file === null) return true;
  const found = scan(file, program, prefix.slice(1), 0);
  return found.runs || found.undecidable;
}

/**
 * Whether `word` appears, quotes removed, in any word of the parsed command (in a word of its own
 * or as part of one, e.g. `rep""ort` or `report.txt`); for a command that does not parse, in its
 * text with quotes removed. Used when the reporter is unknown because the config cannot be read.
 */
export function namesWord(command: string, word: string): boolean {
  if (!mayMention(command, word)) return false;
  const file = parseScript(command);
  if (file === null) return true;
  const pattern = tokenPattern(word);
  return nodesOf(file, "Word").some((w) => pattern.test(shellWord(w).text));
}

interface Found {
  runs: boolean;
  undecidable: boolean;
}

function scan(file: ShNode, program: string, args: string[], depth: number): Found {
  const found: Found = { runs: false, undecidable: false };
  for (const call of nodesOf(file, "CallExpr")) {
    const words = list(call.Args).map(shellWord);
    if (handsOver(words, program, args)) found.runs = true;
    for (const inv of invocations(words)) {
      if (inv.kind === "script") {
        const nested = inv.text === null || depth >= MAX_DEPTH ? null : parseScript(inv.text);
        if (nested === null) found.undecidable = true;
        else {
          const inner = scan(nested, program, args, depth + 1);
          found.runs ||= inner.runs;
          found.undecidable ||= inner.undecidable;
        }
        continue;
      }
      const head = inv.words[0]!.value;
      if (head === null) found.undecidable = true;
      else if (isProgram(head, program) && argsMatch(inv.words.slice(1), args, inv.appendable))
        found.runs = true;
    }
  }
  return found;
}

function isProgram(word: string, program: string): boolean {
  return basename(word).toLowerCase() === program;
}

/**
 * The fixed arguments appear in order among the words; a word whose value is unknown could be
 * any of them, and `appendable` (xargs) may add the missing ones.
 */
function argsMatch(words: ShellWord[], args: string[], appendable: boolean): boolean {
  let j = 0;
  for (const w of words) {
    if (j === args.length || w.value === null) return true;
    if (w.value === args[j]) j++;
  }
  return j === args.length || appendable;
}

/**
 * A command hands the reporter's argv to some program this module does not know as a wrapper
 * (`flock`, `strace`, `ssh`, …): the program and then its fixed arguments, as static words.
 */
function handsOver(words: ShellWord[], program: string, args: string[]): boolean {
  if (args.length === 0) return false;
  return words.some((w, i) => {
    if (i === 0 || w.value === null || !isProgram(w.value, program)) return false;
    const rest = words.slice(i + 1).flatMap((r) => (r.value === null ? [] : [r.value]));
    let j = 0;
    for (const v of rest) if (v === args[j] && ++j === args.length) return true;
    return false;
  });
}
