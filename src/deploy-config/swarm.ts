/**
 * Lint the live Swarm service — what is deployed, which may differ from the stack file — with the
 * same rules as the file, fixes as `docker service update` commands, and the settings that drifted
 * from the stack file.
 */
import type { SwarmService } from "../swarm/read.js";
import type { MigrationUse } from "./commands.js";
import { composeServiceSettings } from "./compose.js";
import { formatDuration } from "./duration.js";
import { checkService, type FixWriter, verdictFor } from "./rules.js";
import type { HealthSettings, ServiceSettings, StartCommand } from "./settings.js";
import { swarmSettings } from "./swarm-settings.js";
import type { DeployCheck, DeployDrift } from "./types.js";

/** The stack file read beside the live service, to report drift. */
export interface StackFile {
  text: string;
  label: string;
}

export function checkSwarmService(
  live: SwarmService,
  stack: StackFile | null,
  migrateCommands: string[],
): DeployCheck {
  const source = `swarm:${live.name}`;
  const settings = swarmSettings(live.spec, live.name);
  const findings = checkService(settings, source, cliFixes(live.name), migrateCommands);
  return {
    source,
    services: [settings.service],
    findings,
    verdict: verdictFor(findings),
    drift: stack ? drift(live, settings, stack) : null,
  };
}

/** The stack service the live one was deployed from: `docker stack deploy` names it `<stack>_<service>`. */
function drift(live: SwarmService, settings: ServiceSettings, stack: StackFile): DeployCheck["drift"] {
  let services: ServiceSettings[];
  try {
    services = composeServiceSettings(stack.text, stack.label);
  } catch {
    return null;
  }
  const labels = (live.spec.Labels ?? {}) as Record<string, unknown>;
  const namespace =
    typeof labels["com.docker.stack.namespace"] === "string" ? labels["com.docker.stack.namespace"] : null;
  const short =
    namespace && live.name.startsWith(`${namespace}_`) ? live.name.slice(namespace.length + 1) : live.name;
  const file =
    services.find((s) => s.service === short) ??
    services.find((s) => s.service === live.name) ??
    (services.length === 1 ? services[0] : undefined);
  if (!file) return null;
  return { file: stack.label, service: file.service, differences: differences(file, settings) };
}

/** Each compared setting, named as in the stack file, as text on both sides. */
function differences(file: ServiceSettings, live: ServiceSettings): DeployDrift[] {
  const ms = (v: number | null) => (v === null ? "unreadable" : formatDuration(v));
  const ports = (s: ServiceSettings) =>
    s.hostPorts
      .map((p) => `${p.published ?? "*"}:${p.target}/${p.protocol}`)
      .sort()
      .join(", ") || "none";
  const pairs: [string, (s: ServiceSettings) => string][] = [
    ["healthcheck", (s) => health(s.health)],
    ["deploy.update_config.failure_action", (s) => s.failureAction.value],
    ["deploy.update_config.order", (s) => s.order.value],
    ["deploy.update_config.monitor", (s) => ms(s.monitorMs.value)],
    ["deploy.rollback_config", (s) => (s.rollbackConfig.value ? "set" : "absent")],
    ["deploy.rollback_config.order", (s) => s.rollbackOrder.value],
    ["deploy.restart_policy.condition", (s) => s.restartCondition.value],
    [
      "deploy.restart_policy.max_attempts",
      (s) => (s.restartMaxAttempts.value > 0 ? String(s.restartMaxAttempts.value) : "unlimited"),
    ],
    ["ports in host mode", ports],
  ];
  return pairs.flatMap(([setting, show]) => {
    const [f, l] = [show(file), show(live)];
    return f === l ? [] : [{ setting, file: f, live: l }];
  });
}

function health(h: HealthSettings): string {
  if (h.state !== "test") return h.state === "disabled" ? "disabled" : "none";
  const d = (v: number | null) => (v === null ? "?" : formatDuration(v));
  return `${JSON.stringify(h.test)} interval ${d(h.intervalMs.value)}, retries ${h.retries.value}, start period ${d(h.startPeriodMs.value)}`;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const KEEP =
  "# and write the same in the stack file, or the next `docker stack deploy` puts the old value back";

/** Fixes as the `docker service update` command that changes the live service. */
function cliFixes(service: string): FixWriter {
  const cmd = (...flags: string[]) =>
    [`docker service update ${flags.join(" ")} ${service}`, KEEP].join("\n");
  return {
    healthcheck: (s) =>
      cmd(
        `--health-cmd ${q(`curl -fsS http://localhost:${s.port}/readyz`)}`,
        "--health-interval 10s --health-timeout 3s --health-retries 3 --health-start-period 30s",
      ),
    update: (_s, change) =>
      cmd(
        ...(change.failureAction ? [`--update-failure-action ${change.failureAction}`] : []),
        ...(change.order ? [`--update-order ${change.order}`] : []),
        ...(change.monitorMs !== undefined ? [`--update-monitor ${formatDuration(change.monitorMs)}`] : []),
      ),
    rollback: () => cmd("--rollback-parallelism 1 --rollback-order start-first --rollback-monitor 30s"),
    restart: () =>
      cmd(
        "--restart-condition on-failure --restart-delay 10s --restart-max-attempts 3 --restart-window 120s",
      ),
    startCommand: (s, c, use) => startCommandFix(s, c, use, cmd),
    ingressPort: (_s, port) => {
      const published = port.published === null ? "" : `published=${port.published},`;
      return cmd(
        `--publish-rm ${port.target}`,
        `--publish-add ${published}target=${port.target},protocol=${port.protocol},mode=ingress`,
      );
    },
  };
}

function startCommandFix(
  s: ServiceSettings,
  c: StartCommand,
  use: MigrationUse,
  cmd: (...flags: string[]) => string,
): string {
  const flag = c.key === "ContainerSpec.Command" ? "--entrypoint" : "--args";
  const kept = use.kept === null ? "''" : q(use.kept.join(" "));
  return [
    cmd(`${flag} ${kept}`),
    `# migrations: run \`${use.removed}\` as a pre-deploy step after \`mai-gate check\` (a CI step, or a one-off \`docker run --rm ${s.image ?? "<image>"} ${use.removed}\`)`,
  ].join("\n");
}
