/** One compose service's deploy settings, with Swarm's defaults where a key is absent. */
import { parseDuration } from "./duration.js";
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
import { entry, scalarText, type YEntry, type YNode } from "./yaml-tree.js";

export function composeSettings(name: string, keyLine: number, svc: YNode): ServiceSettings {
  const deploy = entry(svc, "deploy")?.value;
  const update = entry(deploy, "update_config")?.value;
  const rollback = entry(deploy, "rollback_config");
  const rollbackNode = rollback?.value;
  const restartPolicy = entry(deploy, "restart_policy")?.value;
  return {
    service: name,
    line: keyLine,
    image: scalarText(entry(svc, "image")?.value) ?? null,
    port: containerPort(svc),
    health: healthSettings(svc),
    failureAction: text(
      update,
      "update_config.failure_action",
      UPDATE_DEFAULTS.failureAction,
      "Swarm's default is pause",
    ),
    order: text(update, "update_config.order", UPDATE_DEFAULTS.order, "Swarm's default is stop-first"),
    monitorMs: duration(update, "update_config.monitor", UPDATE_DEFAULTS.monitorMs, "Swarm's default is 5s"),
    rollbackConfig: setting(
      "deploy.rollback_config",
      rollback !== undefined,
      rollback !== undefined,
      rollback?.keyLine ?? null,
      "set",
      "Swarm's default rolls back one task at a time, stop-first, pausing on failure, monitor 5s",
    ),
    rollbackOrder: text(
      rollbackNode,
      "rollback_config.order",
      UPDATE_DEFAULTS.order,
      "Swarm's default is stop-first",
    ),
    hostPorts: hostPorts(svc),
    ...restartSettings(svc, restartPolicy),
    commands: startCommands(svc),
  };
}

function text(parent: YNode | undefined, key: string, fallback: string, note: string): Setting<string> {
  const found = entry(parent, key.split(".").pop() ?? key);
  const raw = scalarText(found?.value);
  if (!found || raw === undefined) return setting(key, fallback, false, null, fallback, note);
  return setting(key, raw.trim(), true, found.keyLine, raw, note);
}

function duration(
  parent: YNode | undefined,
  key: string,
  fallback: number | null,
  note: string,
): Setting<number | null> {
  const found = entry(parent, key.split(".").pop() ?? key);
  const raw = scalarText(found?.value);
  if (!found || raw === undefined) return setting(key, fallback, false, null, "", note);
  return setting(key, parseDuration(raw), true, found.keyLine, raw, note);
}

function count(parent: YNode | undefined, key: string, fallback: number | null, note: string) {
  const found = entry(parent, key.split(".").pop() ?? key);
  const raw = scalarText(found?.value);
  const n = raw === undefined ? Number.NaN : Number(raw);
  if (!found || !Number.isInteger(n)) return setting(key, fallback, false, null, "", note);
  return setting<number | null>(key, n, true, found.keyLine, String(n), note);
}

function healthSettings(svc: YNode): HealthSettings {
  const hc = entry(svc, "healthcheck");
  const node = hc?.value;
  const test = entry(node, "test");
  const disable = entry(node, "disable");
  const base = {
    missing: "absent",
    key: "healthcheck",
    line: hc?.keyLine ?? null,
    test: null,
    testKey: "healthcheck.test",
    testLine: test?.keyLine ?? null,
    intervalMs: duration(node, "healthcheck.interval", HEALTH_DEFAULTS.intervalMs, "the default is 30s"),
    retries: count(node, "healthcheck.retries", HEALTH_DEFAULTS.retries, "the default is 3"),
    startPeriodMs: duration(
      node,
      "healthcheck.start_period",
      HEALTH_DEFAULTS.startPeriodMs,
      "the default is 0s",
    ),
  };
  if (!hc) return { ...base, state: "absent" };
  if (disable && /^true$/i.test(scalarText(disable.value) ?? ""))
    return { ...base, state: "disabled", key: "healthcheck.disable: true", line: disable.keyLine };
  const argv = testArgv(test);
  if (argv === null || argv.length === 0) return { ...base, state: "no_test" };
  if (argv[0] === "NONE")
    return { ...base, state: "disabled", key: 'healthcheck.test: ["NONE"]', line: test?.keyLine ?? null };
  return { ...base, state: "test", test: argv };
}

/** ["CMD", ...] / ["CMD-SHELL", script]; a string test runs in a shell. */
function testArgv(test: YEntry | undefined): string[] | null {
  if (!test) return null;
  const v = test.value;
  if (v.kind === "seq") return v.items.map((i) => scalarText(i) ?? "");
  const s = scalarText(v);
  if (s === undefined) return null;
  return s.trim() === "NONE" ? ["NONE"] : ["CMD-SHELL", s];
}

function restartSettings(svc: YNode, policy: YNode | undefined) {
  const conditionNote = "Swarm's default is any";
  const attemptsNote = "Swarm's default is unlimited";
  const cond = text(policy, "restart_policy.condition", "any", conditionNote);
  const max = count(policy, "restart_policy.max_attempts", 0, attemptsNote);
  const restart = entry(svc, "restart");
  const legacy = scalarText(restart?.value);
  if (policy !== undefined || !restart || legacy === undefined)
    return { restartCondition: cond, restartMaxAttempts: { ...max, value: max.value ?? 0 } };
  // `docker stack deploy` maps the service-level `restart:` when there is no restart_policy.
  const onFailure = /^on-failure(?::(\d+))?$/.exec(legacy.trim());
  const note = `restart: ${legacy} (no deploy.restart_policy) gives`;
  if (onFailure)
    return {
      restartCondition: setting("restart", "on-failure", true, restart.keyLine, legacy, conditionNote),
      restartMaxAttempts: setting(
        "restart_policy.max_attempts",
        Number(onFailure[1] ?? 0),
        onFailure[1] !== undefined,
        restart.keyLine,
        onFailure[1] ?? "0",
        `${note} unlimited attempts`,
      ),
    };
  return {
    restartCondition: setting("restart", "any", true, restart.keyLine, legacy, conditionNote),
    restartMaxAttempts: setting(
      "restart_policy.max_attempts",
      0,
      false,
      null,
      "",
      `${note} unlimited attempts`,
    ),
  };
}

function startCommands(svc: YNode): StartCommand[] {
  return (["entrypoint", "command"] as const).flatMap((key): StartCommand[] => {
    const found = entry(svc, key);
    if (!found) return [];
    const v = found.value;
    if (v.kind === "seq")
      return [{ key, line: found.keyLine, form: "list", items: v.items.map((i) => scalarText(i) ?? "") }];
    const s = scalarText(v);
    return s === undefined ? [] : [{ key, line: found.keyLine, form: "string", items: [s] }];
  });
}

/** `ports` entries in the long syntax with `mode: host` (the short syntax always uses the routing mesh). */
function hostPorts(svc: YNode): HostPort[] {
  const list = entry(svc, "ports")?.value;
  if (list?.kind !== "seq") return [];
  return list.items.flatMap((item, i): HostPort[] => {
    if (item.kind !== "map" || scalarText(entry(item, "mode")?.value) !== "host") return [];
    const target = Number(scalarText(entry(item, "target")?.value));
    if (!Number.isInteger(target) || target <= 0) return [];
    const raw = scalarText(entry(item, "published")?.value);
    const published = raw === undefined ? null : Number(raw.split("-")[0]);
    return [
      {
        key: `ports[${i}]`,
        line: entry(item, "mode")?.keyLine ?? item.line,
        published: published !== null && Number.isInteger(published) ? published : null,
        target,
        protocol: scalarText(entry(item, "protocol")?.value) ?? "tcp",
      },
    ];
  });
}

/** The container side of the first published or exposed port; 8080 when none is written. */
function containerPort(svc: YNode): number {
  for (const key of ["ports", "expose"]) {
    const list = entry(svc, key)?.value;
    if (list?.kind !== "seq") continue;
    for (const item of list.items) {
      const raw = item.kind === "map" ? scalarText(entry(item, "target")?.value) : scalarText(item);
      const port = raw === undefined ? Number.NaN : Number(raw.split("/")[0]?.split(":").pop());
      if (Number.isInteger(port) && port > 0) return port;
    }
  }
  return 8080;
}
