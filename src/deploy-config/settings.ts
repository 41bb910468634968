/**
 * One service's deploy settings, read from a compose file or from Dokploy, with the engine default
 * filled in where a key is absent. The rules judge this shape; each source says how it names keys
 * and where its defaults come from.
 */

/** One setting: its value (the default when absent), where it is, and how to name it. */
export interface Setting<T> {
  /** How the source names the key, e.g. "update_config.failure_action". */
  key: string;
  value: T;
  /** False when the key is absent and `value` is the default. */
  present: boolean;
  /** 1-based line of the key when present; null when absent or the source has no lines. */
  line: number | null;
  /** The value as written, for messages. */
  raw: string;
  /** When absent: where the default comes from, e.g. "Swarm's default is pause". */
  defaultNote: string;
  /** How to say it is missing: "absent" (the default), "null", "not set", "0". */
  missing?: string;
}

export type HealthState = "absent" | "disabled" | "no_test" | "test";

export interface HealthSettings {
  state: HealthState;
  /** How to say the health check is missing: "absent" in a file, "null" in Dokploy. */
  missing: string;
  /** The key that holds the state: the `healthcheck` key, or `disable`/`test` when disabled. */
  key: string;
  line: number | null;
  /** Normalised test: ["CMD", ...args] or ["CMD-SHELL", script]; null when there is none. */
  test: string[] | null;
  testKey: string;
  testLine: number | null;
  intervalMs: Setting<number | null>;
  retries: Setting<number | null>;
  startPeriodMs: Setting<number | null>;
}

/** A command the container runs at start: `entrypoint`/`command` in compose, `command`/`args` in Dokploy. */
export interface StartCommand {
  key: string;
  line: number | null;
  /** A list is an argv; a string is run by a shell (or split like one). */
  form: "list" | "string";
  items: string[];
}

/** A port published in host mode: the task binds it on its node, so two tasks of it cannot share a node. */
export interface HostPort {
  /** How the source names it, e.g. "ports[0]" or "EndpointSpec.Ports[0]". */
  key: string;
  line: number | null;
  /** null: a port the engine picks. */
  published: number | null;
  target: number;
  protocol: string;
}

export interface ServiceSettings {
  service: string;
  /** Line of the service's key; null for Dokploy. */
  line: number | null;
  image: string | null;
  /** The container port the app listens on, for the health check in a fix. */
  port: number;
  health: HealthSettings;
  failureAction: Setting<string>;
  order: Setting<string>;
  /** null: written but not a duration. */
  monitorMs: Setting<number | null>;
  rollbackConfig: Setting<boolean>;
  /** rollback_config.order (Swarm's default stop-first). */
  rollbackOrder: Setting<string>;
  /** Published ports in host mode (not the routing mesh). */
  hostPorts: HostPort[];
  restartCondition: Setting<string>;
  /** 0 or absent means unlimited. */
  restartMaxAttempts: Setting<number>;
  commands: StartCommand[];
}

/** The health check engine defaults (Docker): interval 30s, timeout 30s, retries 3, start_period 0s. */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 };

/** Swarm's update_config defaults. */
export const UPDATE_DEFAULTS = {
  failureAction: "pause",
  order: "stop-first",
  monitorMs: 5_000,
  parallelism: 1,
};

export function setting<T>(
  key: string,
  value: T,
  present: boolean,
  line: number | null,
  raw: string,
  defaultNote: string,
): Setting<T> {
  return { key, value, present, line, raw, defaultNote };
}

/** "update_config.failure_action is absent: Swarm's default is pause" / "… is pause". */
export function describeSetting(s: Setting<unknown>): string {
  return s.present ? `${s.key} is ${s.raw}` : `${s.key} is ${s.missing ?? "absent"}: ${s.defaultNote}`;
}
