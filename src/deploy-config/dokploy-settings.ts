/**
 * A Dokploy application's Swarm settings (`GET /api/application.one`), with the defaults that
 * apply when a field is null: Dokploy's own (a null updateConfigSwarm is sent as
 * `{ Parallelism: 1, Order: "start-first" }`), then Swarm's. Durations are nanoseconds.
 */
import { asRecord, numberField, stringField } from "../deploy/json.js";
import { nsToMs } from "./duration.js";
import { engineHealth, textField } from "./engine-fields.js";
import {
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
    health: engineHealth(asRecord(app.healthCheckSwarm), {
      key: "healthCheckSwarm",
      testKey: "healthCheckSwarm.Test",
      field: (f) => `healthCheckSwarm.${f}`,
      missing: "null",
    }),
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
    failureAction: textField(
      update,
      "updateConfigSwarm.FailureAction",
      "FailureAction",
      UPDATE_DEFAULTS.failureAction,
      "Swarm's default is pause",
    ),
    order: textField(
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
  return textField(rollback, "rollbackConfigSwarm.Order", "Order", UPDATE_DEFAULTS.order, note);
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
    restartCondition: textField(
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
