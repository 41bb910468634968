import { basename } from "node:path";

/**
 * Whether a shell command line runs the reporter. Hand-written and deliberately small: it splits
 * the line into simple commands (`;`, `&&`, `||`, `|`, `&`, newlines, `$(…)`, backticks), reads
 * words with shell quoting, skips `VAR=value` assignments and wrappers (`sudo`, `env`, `exec`, …),
 * follows `sh -c '…'`, and compares the words with the reporter's fixed leading arguments (those
 * before the first `{placeholder}`). The first word matches by basename (`/usr/bin/mai` = `mai`).
 */
export function invokesReporter(command: string, reporter: string[]): boolean {
  const prefix = fixedPrefix(reporter);
  if (prefix.length === 0) return false;
  return simpleCommands(command).some((words) => matches(unwrap(words), prefix));
}

function fixedPrefix(argv: string[]): string[] {
  const end = argv.findIndex((a) => a.includes("{"));
  return end < 0 ? argv : argv.slice(0, end);
}

const WRAPPERS = new Set(["sudo", "env", "exec", "command", "nohup", "time", "nice", "builtin"]);
const SHELLS = new Set(["sh", "bash", "zsh", "dash"]);

function unwrap(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || WRAPPERS.has(basename(w)) || (w.startsWith("-") && i > 0)) i++;
    else break;
  }
  return words.slice(i);
}

function matches(words: string[], prefix: string[]): boolean {
  const [first, ...rest] = words;
  if (first === undefined) return false;
  if (SHELLS.has(basename(first))) {
    const c = rest.indexOf("-c");
    const script = c >= 0 ? rest[c + 1] : undefined;
    return script !== undefined && simpleCommands(script).some((w) => matches(unwrap(w), prefix));
  }
  if (basename(first) !== basename(prefix[0]!)) return false;
  return prefix.slice(1).every((p, i) => rest[i] === p);
}

/** The words of each simple command in a command line, with shell quoting removed. */
export function simpleCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const close = line.indexOf("'", i + 1);
      const end = close < 0 ? line.length : close;
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      let text = "";
      while (j < line.length && line[j] !== '"') {
        if (line[j] === "\\" && j + 1 < line.length) j++;
        text += line[j];
        j++;
      }
      word = (word ?? "") + text;
      i = j;
    } else if (ch === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(ch) && ch !== "\n") {
      endWord();
    } else if (";&|\n`()".includes(ch) || (ch === "$" && line[i + 1] === "(")) {
      endCommand();
      if (ch === "$") i++;
    } else {
      word = (word ?? "") + ch;
    }
  }
  endCommand();
  return commands;
}
