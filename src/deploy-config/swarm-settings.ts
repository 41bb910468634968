/**
 * A live Swarm service's deploy settings, from its spec as the Docker Engine API answers it
 * (`GET /services/{name}`): UpdateConfig, RollbackConfig, the container's health check, the
 * restart policy and the endpoint's ports. An absent section means Swarm's defaults. Durations are
 * nanoseconds.
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

export function swarmSettings(spec: Json, name: string): ServiceSettings {
  const task = asRecord(spec.TaskTemplate) ?? {};
  const container = asRecord(task.ContainerSpec) ?? {};
  const update = asRecord(spec.UpdateConfig);
  const rollback = asRecord(spec.RollbackConfig);
  const restart = asRecord(task.RestartPolicy);
  const ports = hostPorts(spec);
  return {
    service: stringField(spec, "Name") ?? name,
    line: null,
    image: stringField(container, "Image"),
    port: ports[0]?.target ?? firstTarget(spec) ?? 8080,
    health: healthSettings(asRecord(container.Healthcheck)),
    failureAction: text(update, "UpdateConfig.FailureAction", "FailureAction", UPDATE_DEFAULTS.failureAction),
    order: text(update, "UpdateConfig.Order", "Order", UPDATE_DEFAULTS.order),
    monitorMs: duration(
      update,
      "UpdateConfig.Monitor",
      "Monitor",
      UPDATE_DEFAULTS.monitorMs,
      "Swarm's default is 5s",
    ),
    rollbackConfig: {
      ...setting(
        "RollbackConfig",
        rollback !== undefined,
        rollback !== undefined,
        null,
        "set",
        ROLLBACK_DEFAULT,
      ),
      missing: "not set",
    },
    rollbackOrder: text(rollback, "RollbackConfig.Order", "Order", UPDATE_DEFAULTS.order),
    hostPorts: ports,
    restartCondition: text(restart, "RestartPolicy.Condition", "Condition", "any"),
    restartMaxAttempts: maxAttempts(restart),
    commands: startCommands(container),
  };
}

const ROLLBACK_DEFAULT =
  "Swarm's default rolls back one task at a time, stop-first, pausing on failure, monitor 5s";

function text(obj: Json | undefined, key: string, field: string, fallback: string): Setting<string> {
  const value = obj ? stringField(obj, field) : null;
  const note = `Swarm's default is ${fallback}`;
  return value === null
    ? { ...setting(key, fallback, false, null, fallback, note), missing: "not set" }
    : setting(key, value, true, null, value, note);
}

function duration(
  obj: Json | undefined,
  key: string,
  field: string,
  fallback: number | null,
  note: string,
): Setting<number | null> {
  const ns = obj ? numberField(obj, field) : null;
  if (ns === null || ns <= 0)
    return {
      ...setting<number | null>(key, fallback, false, null, "", note),
      missing: ns === 0 ? "0" : "not set",
    };
  return setting<number | null>(key, nsToMs(ns), true, null, `${ns} ns`, note);
}

function maxAttempts(restart: Json | undefined): Setting<number> {
  const n = restart ? numberField(restart, "MaxAttempts") : null;
  const key = "RestartPolicy.MaxAttempts";
  if (n !== null && n > 0) return setting(key, n, true, null, String(n), "");
  return {
    ...setting(key, 0, false, null, "", "Swarm's default is unlimited"),
    missing: n === 0 ? "0 (unlimited)" : "not set",
  };
}

function healthSettings(hc: Json | undefined): HealthSettings {
  const retries = hc ? numberField(hc, "Retries") : null;
  const base = {
    missing: "not set",
    key: "ContainerSpec.Healthcheck",
    line: null,
    test: null,
    testKey: "ContainerSpec.Healthcheck.Test",
    testLine: null,
    intervalMs: duration(
      hc,
      "Healthcheck.Interval",
      "Interval",
      HEALTH_DEFAULTS.intervalMs,
      "the default is 30s",
    ),
    retries:
      retries !== null && retries > 0
        ? setting<number | null>("Healthcheck.Retries", retries, true, null, String(retries), "")
        : setting<number | null>(
            "Healthcheck.Retries",
            HEALTH_DEFAULTS.retries,
            false,
            null,
            "",
            "the default is 3",
          ),
    startPeriodMs: duration(
      hc,
      "Healthcheck.StartPeriod",
      "StartPeriod",
      HEALTH_DEFAULTS.startPeriodMs,
      "the default is 0s",
    ),
  };
  if (!hc) return { ...base, state: "absent" };
  const test = Array.isArray(hc.Test) ? hc.Test.filter((t): t is string => typeof t === "string") : [];
  if (test.length === 0) return { ...base, state: "no_test" };
  if (test[0] === "NONE") return { ...base, state: "disabled", key: 'Healthcheck.Test ["NONE"]' };
  return { ...base, state: "test", test };
}

/** ContainerSpec.Command replaces the image's entrypoint; ContainerSpec.Args its command. */
function startCommands(container: Json): StartCommand[] {
  const list = (field: string) =>
    Array.isArray(container[field])
      ? (container[field] as unknown[]).filter((a): a is string => typeof a === "string")
      : [];
  const out: StartCommand[] = [];
  const command = list("Command");
  if (command.length > 0)
    out.push({ key: "ContainerSpec.Command", line: null, form: "list", items: command });
  const args = list("Args");
  if (args.length > 0) out.push({ key: "ContainerSpec.Args", line: null, form: "list", items: args });
  return out;
}

function endpointPorts(spec: Json): Json[] {
  const ports = asRecord(spec.EndpointSpec)?.Ports;
  return (Array.isArray(ports) ? ports : []).flatMap((p) => {
    const r = asRecord(p);
    return r ? [r] : [];
  });
}

function hostPorts(spec: Json): HostPort[] {
  return endpointPorts(spec).flatMap((p, i): HostPort[] => {
    const target = numberField(p, "TargetPort");
    if (stringField(p, "PublishMode") !== "host" || target === null) return [];
    const published = numberField(p, "PublishedPort");
    return [
      {
        key: `EndpointSpec.Ports[${i}]`,
        line: null,
        published: published !== null && published > 0 ? published : null,
        target,
        protocol: stringField(p, "Protocol") ?? "tcp",
      },
    ];
  });
}

function firstTarget(spec: Json): number | null {
  for (const p of endpointPorts(spec)) {
    const target = numberField(p, "TargetPort");
    if (target !== null) return target;
  }
  return null;
}
