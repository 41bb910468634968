/**
 * A live Swarm service's deploy settings, from its spec as the Docker Engine API answers it
 * (`GET /services/{name}`): UpdateConfig, RollbackConfig, the container's health check, the
 * restart policy and the endpoint's ports. An absent section means Swarm's defaults. Durations are
 * nanoseconds.
 */
import { asRecord, numberField, stringField } from "../deploy/json.js";
import { engineHealth, nsField, textField } from "./engine-fields.js";
import {
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
    health: engineHealth(asRecord(container.Healthcheck), {
      key: "ContainerSpec.Healthcheck",
      testKey: "ContainerSpec.Healthcheck.Test",
      field: (f) => `Healthcheck.${f}`,
      missing: "not set",
      durationMissing: "not set",
    }),
    failureAction: swarmText(
      update,
      "UpdateConfig.FailureAction",
      "FailureAction",
      UPDATE_DEFAULTS.failureAction,
    ),
    order: swarmText(update, "UpdateConfig.Order", "Order", UPDATE_DEFAULTS.order),
    monitorMs: nsField(
      update,
      "UpdateConfig.Monitor",
      "Monitor",
      UPDATE_DEFAULTS.monitorMs,
      "Swarm's default is 5s",
      "not set",
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
    rollbackOrder: swarmText(rollback, "RollbackConfig.Order", "Order", UPDATE_DEFAULTS.order),
    hostPorts: ports,
    restartCondition: swarmText(restart, "RestartPolicy.Condition", "Condition", "any"),
    restartMaxAttempts: maxAttempts(restart),
    commands: startCommands(container),
  };
}

/** A string field with Swarm's default said. */
const swarmText = (obj: Json | undefined, key: string, field: string, fallback: string) =>
  textField(obj, key, field, fallback, `Swarm's default is ${fallback}`);

const ROLLBACK_DEFAULT =
  "Swarm's default rolls back one task at a time, stop-first, pausing on failure, monitor 5s";

function maxAttempts(restart: Json | undefined): Setting<number> {
  const n = restart ? numberField(restart, "MaxAttempts") : null;
  const key = "RestartPolicy.MaxAttempts";
  if (n !== null && n > 0) return setting(key, n, true, null, String(n), "");
  return {
    ...setting(key, 0, false, null, "", "Swarm's default is unlimited"),
    missing: n === 0 ? "0 (unlimited)" : "not set",
  };
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
