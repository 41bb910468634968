import pino from "pino";

/** Structured logs go to stderr: stdout belongs to the MCP protocol. */
export type Logger = pino.Logger;

export function createLogger(level: string = process.env.MAI_GATE_LOG ?? "info"): Logger {
  return pino({ name: "mai-gate", level }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
