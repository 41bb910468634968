import { createRequire } from "node:module";

/**
 * The shell parser behind the PreToolUse hook: mvdan-sh, the GopherJS build of mvdan/sh by its
 * author. It is CommonJS and costs ~250 ms to load, so it is required on first use only.
 */
export interface ShNode {
  readonly [field: string]: unknown;
}

interface Syntax {
  NewParser(): { Parse(src: string, name: string): ShNode };
  Walk(node: ShNode, visit: (node: ShNode | null) => boolean): void;
  NodeType(node: ShNode): string;
}

let syntax: Syntax | undefined;

function load(): Syntax {
  syntax ??= (createRequire(import.meta.url)("mvdan-sh") as { syntax: Syntax }).syntax;
  return syntax;
}

/** The parsed script (a `File` node), or null when it is not valid Bash. */
export function parseScript(src: string): ShNode | null {
  try {
    return load().NewParser().Parse(src, "command");
  } catch {
    return null;
  }
}

/** Every node of `type` under `root`, nested ones included (bodies, substitutions, heredocs). */
export function nodesOf(root: ShNode, type: string): ShNode[] {
  const sh = load();
  const found: ShNode[] = [];
  sh.Walk(root, (node) => {
    if (node !== null && sh.NodeType(node) === type) found.push(node);
    return true;
  });
  return found;
}

/**
 * A word as the shell would see it before running the command. `value` is its text with quotes
 * and escapes removed when nothing in it expands (no `$…`, `$(…)`, globs or braces); otherwise
 * null. `text` is its literal fragments with `\0` where something expands: enough to read an
 * option or an assignment, or to see a name.
 */
export interface ShellWord {
  value: string | null;
  text: string;
}

const DYNAMIC = "\0";

/** The `ShellWord` of a `Word` node. */
export function shellWord(word: ShNode): ShellWord {
  const sh = load();
  let text = "";
  let fixed = true;
  for (const part of list(word.Parts)) {
    const type = sh.NodeType(part);
    if (type === "Lit") {
      const lit = unquoted(String(part.Value));
      text += lit.text;
      fixed &&= !lit.expands;
    } else if (type === "SglQuoted") {
      text += part.Dollar ? ansiC(String(part.Value)) : String(part.Value);
    } else if (type === "DblQuoted") {
      for (const inner of list(part.Parts)) {
        if (sh.NodeType(inner) === "Lit") text += inDoubleQuotes(String(inner.Value));
        else {
          text += DYNAMIC;
          fixed = false;
        }
      }
    } else {
      text += DYNAMIC;
      fixed = false;
    }
  }
  return { value: fixed ? text : null, text };
}

/** A node's list field (`Args`, `Parts`) as an array; empty when absent. */
export function list(value: unknown): ShNode[] {
  return Array.isArray(value) ? (value as ShNode[]) : [];
}

/** An unquoted literal: backslash escapes removed; globs, brace expansions and a leading `~` expand. */
function unquoted(raw: string): { text: string; expands: boolean } {
  const text = raw.replace(/\\(\n|.)?/gs, (_, ch: string | undefined) => (ch === "\n" ? "" : (ch ?? "")));
  const bare = raw.replace(/\\(\n|.)?/gs, "\x01");
  const expands = /^~|[*?]|\[.*\]|\{[^}]*(,|\.\.)[^}]*\}/s.test(bare);
  return { text, expands };
}

/** A literal inside double quotes, where a backslash escapes only $, `, ", itself and a newline. */
function inDoubleQuotes(raw: string): string {
  return raw.replace(/\\([$`"\\\n])/g, (_, ch: string) => (ch === "\n" ? "" : ch));
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  e: "\x1b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** The value of a `$'…'` string (ANSI-C quoting). */
function ansiC(raw: string): string {
  return raw.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs,
    (_, esc: string) => {
      const kind = esc[0]!;
      if (kind === "x" || kind === "u" || kind === "U") {
        const code = parseInt(esc.slice(1), 16);
        return code <= 0x10ffff ? String.fromCodePoint(code) : "";
      }
      if (/[0-7]/.test(kind)) return String.fromCharCode(parseInt(esc, 8) & 0xff);
      if (kind === "c" && esc.length === 2) return String.fromCharCode(esc.charCodeAt(1) & 0x1f);
      return ESCAPES[kind] ?? esc;
    },
  );
}
