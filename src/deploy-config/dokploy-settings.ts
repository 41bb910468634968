/**
 * A Dokploy application's Swarm settings (`GET /api/application.one`), with the defaults that
 * apply when a field is null: Dokploy's own (a null updateConfigSwarm is sent as
 * `{ Parallelism: 1, Order: "start-first" }`), then Swarm's. Durations are nanoseconds.
 */
import { asRecord, numberField, stringField } from "../deploy/json.js";
import { nsToMs } from "./duration.js";
import {
  HEALTH_DEFAULTS,
  type HealthSettings,
  type HostPort,
  type ServiceSettings,
  type Setting,
  type StartCommand,
  setting,
  UPDATE_DEFAULTS,
} from "./settings.js";

type Json = Record<string, unknown>;

export function dokploySettings(app: Json, applicationId: string): ServiceSettings {
  const rollback = asRecord(app.rollbackConfigSwarm) !== undefined;
  return {
    service: stringField(app, "appName") ?? stringField(app, "name") ?? applicationId,
    line: null,
    image: stringField(app, "dockerImage"),
    port: appPort(app),
    health: healthSettings(asRecord(app.healthCheckSwarm)),
    ...updateSettings(asRecord(app.updateConfigSwarm)),
    rollbackConfig: {
      ...setting("rollbackConfigSwarm", rollback, rollback, null, "set", ROLLBACK_DEFAULT),
      missing: "null",
    },
    rollbackOrder: rollbackOrder(asRecord(app.rollbackConfigSwarm)),
    hostPorts: hostPorts(app),
    ...restartSettings(asRecord(app.restartPolicySwarm)),
    commands: startCommands(app),
  };
}

const ROLLBACK_DEFAULT =
  "Swarm's default rolls back one task at a time, stop-first, pausing on failure, monitor 5s";

/** A null updateConfigSwarm is sent by Dokploy as `{ Parallelism: 1, Order: "start-first" }`. */
function updateSettings(update: Json | undefined) {
  if (!update) {
    const sent = "Dokploy sends only { Parallelism: 1, Order: start-first }, so";
    const nul = <T>(value: T, note: string): Setting<T> => ({
      ...setting("updateConfigSwarm", value, false, null, "", note),
      missing: "null",
    });
    return {
      failureAction: nul(
        UPDATE_DEFAULTS.failureAction,
        `${sent} Swarm's default failure action pause applies`,
      ),
      order: nul("start-first", "Dokploy sends Order start-first"),
      monitorMs: nul<number | null>(
        UPDATE_DEFAULTS.monitorMs,
        `${sent} Swarm's default monitor 5s applies`,
      ) as Setting<number | null>,
    };
  }
  const monitorNs = numberField(update, "Monitor");
  return {
    failureAction: text(
      update,
      "updateConfigSwarm.FailureAction",
      "FailureAction",
      UPDATE_DEFAULTS.failureAction,
      "Swarm's default is pause",
    ),
    order: text(
      update,
      "updateConfigSwarm.Order",
      "Order",
      UPDATE_DEFAULTS.order,
      "Swarm's default is stop-first",
    ),
    monitorMs:
      monitorNs !== null && monitorNs > 0
        ? setting<number | null>(
            "updateConfigSwarm.Monitor",
            nsToMs(monitorNs),
            true,
            null,
            `${monitorNs} ns`,
            "",
          )
        : {
            ...setting<number | null>(
              "updateConfigSwarm.Monitor",
              UPDATE_DEFAULTS.monitorMs,
              false,
              null,
              "",
              "",
            ),
            missing: monitorNs === 0 ? "0" : "not set",
            defaultNote:
              monitorNs === 0 ? "0 means unset, so Swarm's default 5s applies" : "Swarm's default is 5s",
          },
  };
}

function rollbackOrder(rollback: Json | undefined): Setting<string> {
  const note = "Swarm's default is stop-first";
  if (!rollback)
    return {
      ...setting("rollbackConfigSwarm", UPDATE_DEFAULTS.order, false, null, "", note),
      missing: "null",
    };
  return text(rollback, "rollbackConfigSwarm.Order", "Order", UPDATE_DEFAULTS.order, note);
}

/** Dokploy's ports published in host mode (`publishMode: "host"`). */
function hostPorts(app: Json): HostPort[] {
  const ports = Array.isArray(app.ports) ? app.ports : [];
  return ports.flatMap((raw, i): HostPort[] => {
    const p = asRecord(raw);
    const target = p ? numberField(p, "targetPort") : null;
    if (!p || stringField(p, "publishMode") !== "host" || target === null) return [];
    return [
      {
        key: `ports[${i}]`,
        line: null,
        published: numberField(p, "publishedPort"),
        target,
        protocol: stringField(p, "protocol") ?? "tcp",
      },
    ];
  });
}

function restartSettings(restart: Json | undefined) {
  if (!restart) {
    const note = "Swarm's default is condition any with unlimited attempts";
    return {
      restartCondition: { ...setting("restartPolicySwarm", "any", false, null, "", note), missing: "null" },
      restartMaxAttempts: { ...setting("restartPolicySwarm", 0, false, null, "", note), missing: "null" },
    };
  }
  const n = numberField(restart, "MaxAttempts");
  const key = "restartPolicySwarm.MaxAttempts";
  return {
    restartCondition: text(
      restart,
      "restartPolicySwarm.Condition",
      "Condition",
      "any",
      "Swarm's default is any",
    ),
    restartMaxAttempts:
      n !== null && n > 0
        ? setting(key, n, true, null, String(n), "")
        : {
            ...setting(key, 0, false, null, "", "Swarm's default is unlimited"),
            missing: n === 0 ? "0 (unlimited)" : "not set",
          },
  };
}

function text(obj: Json, key: string, field: string, fallback: string, note: string): Setting<string> {
  const value = stringField(obj, field);
  return value === null
    ? { ...setting(key, fallback, false, null, fallback, note), missing: "not set" }
    : setting(key, value, true, null, value, note);
}

function durationMs(hc: Json | undefined, field: string, fallback: number, note: string) {
  const ns = hc ? numberField(hc, field) : null;
  const key = `healthCheckSwarm.${field}`;
  if (ns === null || ns <= 0) return setting<number | null>(key, fallback, false, null, "", note);
  return setting<number | null>(key, nsToMs(ns), true, null, `${ns} ns`, note);
}

function healthSettings(hc: Json | undefined): HealthSettings {
  const retries = hc ? numberField(hc, "Retries") : null;
  const base = {
    missing: "null",
    key: "healthCheckSwarm",
    line: null,
    test: null,
    testKey: "healthCheckSwarm.Test",
    testLine: null,
    intervalMs: durationMs(hc, "Interval", HEALTH_DEFAULTS.intervalMs, "the default is 30s"),
    retries:
      retries !== null && retries > 0
        ? setting<number | null>("healthCheckSwarm.Retries", retries, true, null, String(retries), "")
        : setting<number | null>(
            "healthCheckSwarm.Retries",
            HEALTH_DEFAULTS.retries,
            false,
            null,
            "",
            "the default is 3",
          ),
    startPeriodMs: durationMs(hc, "StartPeriod", HEALTH_DEFAULTS.startPeriodMs, "the default is 0s"),
  };
  if (!hc) return { ...base, state: "absent" };
  const test = Array.isArray(hc.Test) ? hc.Test.filter((t): t is string => typeof t === "string") : [];
  if (test.length === 0) return { ...base, state: "no_test" };
  if (test[0] === "NONE") return { ...base, state: "disabled", key: 'healthCheckSwarm.Test ["NONE"]' };
  return { ...base, state: "test", test };
}

function startCommands(app: Json): StartCommand[] {
  const out: StartCommand[] = [];
  const command = stringField(app, "command");
  if (command) out.push({ key: "command", line: null, form: "string", items: [command] });
  const args = Array.isArray(app.args) ? app.args.filter((a): a is string => typeof a === "string") : [];
  if (args.length > 0) out.push({ key: "args", line: null, form: "list", items: args });
  return out;
}

/** The port Dokploy routes the domain to, else the first port's target; 8080 when neither is set. */
function appPort(app: Json): number {
  const candidates = [
    ...(Array.isArray(app.domains) ? app.domains.map((d) => asRecord(d)?.port) : []),
    ...(Array.isArray(app.ports) ? app.ports.map((p) => asRecord(p)?.targetPort) : []),
  ];
  const port = candidates.find((p): p is number => typeof p === "number" && Number.isInteger(p) && p > 0);
  return port ?? 8080;
}
