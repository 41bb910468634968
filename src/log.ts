import { createRequire } from "node:module";
import type pino from "pino";

/**
 * Structured logs go to stderr: stdout belongs to the MCP protocol. The methods services use, as
 * pino has them; pino itself loads on the first line actually written, so a process that logs
 * nothing (the hook before every shell command, a server at rest) never pays for it.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
type Method = "debug" | "info" | "warn" | "error";

export function createLogger(level: string = process.env.MAI_GATE_LOG ?? "info"): Logger {
  let instance: pino.Logger | undefined;
  const open = (): pino.Logger => {
    if (!instance) {
      const load = createRequire(import.meta.url)("pino") as typeof pino;
      instance = load({ name: "mai-gate", level }, load.destination({ fd: 2, sync: true }));
    }
    return instance;
  };
  return lazyLogger(LEVELS[level] ?? Number.POSITIVE_INFINITY, open);
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return lazyLogger(Number.POSITIVE_INFINITY, () => {
    throw new Error("a silent logger never writes");
  });
}

function lazyLogger(threshold: number, open: () => pino.Logger): Logger {
  const method =
    (name: Method) =>
    (obj: object | string, msg?: string): void => {
      if (LEVELS[name]! < threshold) return;
      if (typeof obj === "string") open()[name](obj);
      else open()[name](obj, msg);
    };
  return {
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    child(bindings) {
      let child: pino.Logger | undefined;
      return lazyLogger(threshold, () => {
        child ??= open().child(bindings);
        return child;
      });
    },
  };
}
