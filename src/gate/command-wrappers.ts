import { basename } from "node:path";
import type { ShellWord } from "./shell-words.js";

/**
 * What a simple command runs, with wrappers taken off: `exec` is a program with its words
 * (`appendable` when more words may come, as with `xargs`); `script` is shell text it runs
 * (`sh -c`, `eval`, `trap`, `su -c`, `watch`, `env -S`), null when that text is not static
 * (a shell reading stdin or a file, `source`, `eval "$x"`, `alias`).
 */
export type Invocation =
  | { kind: "exec"; words: ShellWord[]; appendable: boolean }
  | { kind: "script"; text: string | null };

interface OptionSpec {
  /** Short options that take a value (`-n 5`, `-n5`). */
  short?: string;
  /** Long options that take a value (`--signal SIG`, `--signal=SIG`). */
  long?: string[];
  /** Operands between the options and the command (`timeout 5`, `chroot DIR`). */
  operands?: number;
  /** `NAME=value` words before the command (`env`, `sudo`). */
  assignments?: boolean;
}

const WRAPPERS: Record<string, OptionSpec> = {
  env: { short: "uCSP", long: ["unset", "chdir", "split-string"], assignments: true },
  sudo: {
    short: "ugCDhprtUTR",
    long: ["user", "group", "close-from", "chdir", "host", "prompt", "role", "type", "other-user"],
    assignments: true,
  },
  doas: { short: "uC" },
  nice: { short: "n", long: ["adjustment"] },
  timeout: { short: "sk", long: ["signal", "kill-after"], operands: 1 },
  exec: { short: "a" },
  command: {},
  builtin: {},
  nohup: {},
  time: { short: "fo", long: ["format", "output"] },
  stdbuf: { short: "ioe", long: ["input", "output", "error"] },
  setsid: {},
  ionice: { short: "cnpPu", long: ["class", "classdata"] },
  chrt: { short: "TPD", operands: 1 },
  taskset: { operands: 1 },
  chroot: { long: ["userspec", "groups"], operands: 1 },
  unbuffer: {},
  busybox: {},
  xargs: {
    short: "adEILnPs",
    long: ["arg-file", "delimiter", "max-args", "max-procs", "max-chars", "process-slot-var"],
  },
};

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "fish"]);
const UNKNOWABLE = new Set(["source", ".", "alias"]);

/** The programs and scripts a simple command (its argument words) runs. */
export function invocations(words: ShellWord[]): Invocation[] {
  let rest = words;
  let appendable = false;
  for (;;) {
    const head = rest[0];
    if (head === undefined) return [];
    const name = head.value === null ? null : basename(head.value);
    const args = rest.slice(1);
    if (name === null) return [{ kind: "exec", words: rest, appendable }];
    const spec = WRAPPERS[name];
    if (spec) {
      if (name === "env" && args.some((w) => /^(-S|--split-string)/.test(w.text))) return [joined(args)];
      if (name === "xargs") appendable = true;
      rest = name === "xargs" ? xargsCommand(args) : skipOptions(args, spec);
      continue;
    }
    if (name === "find") return findExecs(args);
    if (SHELLS.has(name)) return [shellScript(args)];
    if (name === "eval") return [joined(args)];
    if (name === "trap") return trapScript(args);
    if (name === "watch") return watchCommand(args);
    if (name === "flock") return flockCommand(args);
    if (["su", "runuser", "script"].includes(name)) return commandOption(args);
    if (UNKNOWABLE.has(name)) return [{ kind: "script", text: null }];
    return [{ kind: "exec", words: rest, appendable }];
  }
}

/** The words after a wrapper's options, operands and assignments. */
function skipOptions(words: ShellWord[], spec: OptionSpec): ShellWord[] {
  let i = 0;
  while (i < words.length) {
    const t = words[i]!.text;
    if (t === "--") {
      i++;
      break;
    }
    if (t.startsWith("--")) {
      const takes = !t.includes("=") && (spec.long ?? []).includes(t.slice(2));
      i += takes ? 2 : 1;
    } else if (t.startsWith("-") && t.length > 1) {
      const cluster = t.slice(1);
      const at = [...cluster].findIndex((c) => (spec.short ?? "").includes(c));
      i += at >= 0 && at === cluster.length - 1 ? 2 : 1;
    } else if (t === "-" && spec.assignments) i++;
    else break;
  }
  i += spec.operands ?? 0;
  while (spec.assignments && i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.text)) i++;
  return words.slice(i);
}

/** `xargs`' command, with words holding the replace string (`-I {}`) as unknown values. */
function xargsCommand(words: ShellWord[]): ShellWord[] {
  const command = skipOptions(words, WRAPPERS.xargs!);
  let replace: string | null = null;
  for (const [i, w] of words.slice(0, words.length - command.length).entries()) {
    const separate = /^-I(.*)$/s.exec(w.text);
    const optional = /^(?:-i|--replace=?)(.*)$/s.exec(w.text);
    if (separate) replace = separate[1] || (words[i + 1]?.text ?? "{}");
    else if (optional) replace = optional[1] || "{}";
  }
  if (replace === null) return command;
  const marker = replace;
  return command.map((w) => (w.text.includes(marker) ? { value: null, text: w.text } : w));
}

/** Each `-exec`/`-execdir`/`-ok`/`-okdir … ;|+` of a `find`, with `{}` an unknown value. */
function findExecs(words: ShellWord[]): Invocation[] {
  const found: Invocation[] = [];
  for (let i = 0; i < words.length; i++) {
    if (!/^-(exec|execdir|ok|okdir)$/.test(words[i]!.text)) continue;
    let end = i + 1;
    while (end < words.length && words[end]!.value !== ";" && words[end]!.value !== "+") end++;
    const command = words.slice(i + 1, end).map((w) => (w.text.includes("{}") ? { ...w, value: null } : w));
    found.push(...invocations(command));
    i = end;
  }
  return found;
}

/** `sh [options] -c SCRIPT`, `sh FILE`, or `sh` reading stdin. */
function shellScript(words: ShellWord[]): Invocation {
  let command = false;
  let i = 0;
  while (i < words.length) {
    const t = words[i]!.text;
    if (t === "--" || t === "-") {
      i++;
      break;
    }
    if (t.startsWith("--")) i += ["--rcfile", "--init-file"].includes(t) ? 2 : 1;
    else if (/^[-+]./s.test(t)) {
      command ||= t.startsWith("-") && t.includes("c");
      i += /[oO]$/.test(t) ? 2 : 1;
    } else break;
  }
  const script = words[i];
  return { kind: "script", text: command && script ? script.value : null };
}

/** Static words joined by spaces as a script (`eval a b`), null when one of them is not static. */
function joined(words: ShellWord[]): Invocation {
  const values = words.map((w) => w.value);
  return { kind: "script", text: values.every((v) => v !== null) ? values.join(" ") : null };
}

function trapScript(words: ShellWord[]): Invocation[] {
  const args = words[0]?.text === "--" ? words.slice(1) : words;
  const action = args[0];
  if (!action || args.length < 2 || /^-/.test(action.text)) return [];
  return [{ kind: "script", text: action.value }];
}

/** `watch [options] COMMAND…` runs its words through `sh -c`; `watch -x` runs them directly. */
function watchCommand(words: ShellWord[]): Invocation[] {
  const direct = words.some((w) => w.text === "-x" || w.text === "--exec");
  const command = skipOptions(words, { short: "nqc", long: ["interval", "differences", "color"] });
  return direct ? invocations(command) : [joined(command)];
}

/** `flock [options] FILE COMMAND…` or `flock [options] FILE -c SCRIPT`. */
function flockCommand(words: ShellWord[]): Invocation[] {
  const after = skipOptions(words, { short: "wE", long: ["timeout", "conflict-exit-code"], operands: 1 });
  const c = after[0]?.text;
  if (c === "-c" || c === "--command") return [{ kind: "script", text: after[1]?.value ?? null }];
  return invocations(after);
}

/** `su`, `runuser`, `script`: the value of `-c`/`--command` is a script. */
function commandOption(words: ShellWord[]): Invocation[] {
  for (const [i, w] of words.entries()) {
    const long = /^--command=(.*)$/s.exec(w.text);
    if (long) return [{ kind: "script", text: w.value === null ? null : long[1]! }];
    if (w.text === "-c" || w.text === "--command")
      return [{ kind: "script", text: words[i + 1]?.value ?? null }];
  }
  return [];
}
