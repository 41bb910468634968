/** The rules: given one service's settings, what makes the next failed deploy take the site down. */
import { findMigration, type MigrationUse, notReadiness } from "./commands.js";
import { formatDuration } from "./duration.js";
import {
  describeSetting,
  HEALTH_DEFAULTS,
  type HostPort,
  type ServiceSettings,
  type StartCommand,
} from "./settings.js";
import type { DeployFinding, DeployRule } from "./types.js";

/** How a source writes a fix: YAML under the service for compose, JSON for Dokploy's Swarm settings. */
export interface FixWriter {
  healthcheck(s: ServiceSettings): string;
  update(s: ServiceSettings, change: { failureAction?: string; order?: string; monitorMs?: number }): string;
  rollback(s: ServiceSettings): string;
  restart(s: ServiceSettings): string;
  startCommand(s: ServiceSettings, cmd: StartCommand, use: MigrationUse): string;
  /** Publish `port` through the routing mesh (ingress) instead of on the node. */
  ingressPort(s: ServiceSettings, port: HostPort): string;
}

type Draft = Omit<DeployFinding, "service" | "file">;

export function checkService(
  s: ServiceSettings,
  file: string | null,
  fixes: FixWriter,
  migrateCommands: string[],
): DeployFinding[] {
  const drafts: Draft[] = [
    ...health(s, fixes),
    ...update(s, fixes),
    ...hostPorts(s, fixes),
    ...rollback(s, fixes),
    ...migrations(s, fixes, migrateCommands),
    ...restart(s, fixes),
  ];
  return drafts.map((d) => ({ service: s.service, file, ...d }));
}

function health(s: ServiceSettings, fixes: FixWriter): Draft[] {
  const h = s.health;
  const consequence =
    "A new task counts as running as soon as its process starts, so a crash-looping release replaces the healthy one and the proxy serves 404.";
  const imageNote =
    "a HEALTHCHECK in the image is not visible from here (it would count if present; with none";
  if (h.state === "absent" || h.state === "no_test") {
    const what = h.state === "absent" ? `${h.key} is ${h.missing}` : `${h.key} has no test`;
    return [
      {
        rule: "no_healthcheck",
        line: h.state === "absent" ? s.line : h.line,
        defaultAssumed: true,
        detail: `${what}: ${imageNote}, Swarm gates nothing on health)`,
        consequence,
        fix: fixes.healthcheck(s),
      },
    ];
  }
  if (h.state === "disabled")
    return [
      {
        rule: "no_healthcheck",
        line: h.line,
        defaultAssumed: false,
        detail: `${h.key} turns the health check off, including any HEALTHCHECK in the image`,
        consequence,
        fix: fixes.healthcheck(s),
      },
    ];
  const why = h.test ? notReadiness(h.test) : null;
  if (!why) return [];
  return [
    {
      rule: "healthcheck_not_readiness",
      line: h.testLine,
      defaultAssumed: false,
      detail: `${h.testKey} is ${JSON.stringify(h.test)}: ${why}; readiness means asking the app over HTTP on its ready/health path`,
      consequence:
        "The check passes while the app cannot serve, so Swarm swaps in a broken release and removes the healthy one.",
      fix: fixes.healthcheck(s),
    },
  ];
}

/** start period + interval × retries: the longest a task can take to be declared unhealthy. */
export function unhealthyWithinMs(s: ServiceSettings): { ms: number; how: string } {
  const live = s.health.state === "test";
  const start = (live ? s.health.startPeriodMs.value : null) ?? HEALTH_DEFAULTS.startPeriodMs;
  const interval = (live ? s.health.intervalMs.value : null) ?? HEALTH_DEFAULTS.intervalMs;
  const retries = (live ? s.health.retries.value : null) ?? HEALTH_DEFAULTS.retries;
  const ms = start + interval * retries;
  const defaults = live ? "" : ", the health check defaults";
  const how = `start period ${formatDuration(start)} + interval ${formatDuration(interval)} × retries ${retries}${defaults}`;
  return { ms, how };
}

/** A monitor comfortably above `needMs`: half again, rounded up to 10 s, at least 30 s. */
export function suggestedMonitorMs(needMs: number): number {
  return Math.max(30_000, Math.ceil((needMs * 1.5) / 10_000) * 10_000);
}

function update(s: ServiceSettings, fixes: FixWriter): Draft[] {
  const out: Draft[] = [];
  const fa = s.failureAction;
  if (fa.value !== "rollback")
    out.push({
      rule: "failure_action",
      line: fa.present ? fa.line : s.line,
      defaultAssumed: !fa.present,
      detail: describeSetting(fa),
      consequence:
        fa.value === "continue"
          ? "Swarm carries on replacing tasks with the broken release instead of going back to the previous one."
          : "Swarm pauses the update with the broken task in place instead of going back to the previous version.",
      fix: fixes.update(s, { failureAction: "rollback" }),
    });
  const order = s.order;
  if (order.value !== "start-first")
    out.push({
      rule: "update_order",
      line: order.present ? order.line : s.line,
      defaultAssumed: !order.present,
      detail: describeSetting(order),
      consequence:
        "Swarm stops the healthy task before the new one is up, so the site is down until the new task is healthy, and stays down if it never is.",
      fix: withIngress(s, fixes, fixes.update(s, { order: "start-first" })),
    });
  const need = unhealthyWithinMs(s);
  const monitor = s.monitorMs;
  if (monitor.value === null || monitor.value < need.ms) {
    const suggested = suggestedMonitorMs(need.ms);
    const shown = monitor.value === null ? "an unreadable monitor" : formatDuration(monitor.value);
    const what =
      monitor.value === null
        ? `${monitor.key} is ${monitor.raw}, which is not a duration (e.g. 90s)`
        : `${describeSetting(monitor)}, shorter than the ${formatDuration(need.ms)} the health check needs to call a task unhealthy (${need.how})`;
    out.push({
      rule: "monitor_too_short",
      line: monitor.present ? monitor.line : s.line,
      defaultAssumed: !monitor.present,
      detail: what,
      consequence: `Swarm stops watching the new task after ${shown}, before the health check can call it unhealthy, so the update counts as done and a task that turns unhealthy later is never rolled back.`,
      fix: fixes.update(s, { monitorMs: suggested }),
    });
  }
  return out;
}

function rollback(s: ServiceSettings, fixes: FixWriter): Draft[] {
  if (s.rollbackConfig.value) return [];
  return [
    {
      rule: "no_rollback_config",
      line: s.line,
      defaultAssumed: true,
      detail: describeSetting(s.rollbackConfig),
      consequence:
        "A rollback runs stop-first, so a broken task that already replaced the old one is stopped before the previous version starts and the site is down in between.",
      fix: withIngress(s, fixes, fixes.rollback(s)),
    },
  ];
}

/** start-first needs the old and the new task side by side: a host-mode port forbids that on one node. */
function hostPorts(s: ServiceSettings, fixes: FixWriter): Draft[] {
  const port = s.hostPorts[0];
  const startFirst = [s.order, s.rollbackOrder].filter((o) => o.value === "start-first");
  if (!port || startFirst.length === 0) return [];
  const published = port.published === null ? "a port the engine picks" : `port ${port.published}`;
  return [
    {
      rule: "start_first_host_port",
      line: port.line ?? s.line,
      defaultAssumed: startFirst.every((o) => !o.present),
      detail: `${startFirst.map(describeSetting).join(" and ")}, while ${port.key} publishes ${published} (target ${port.target}/${port.protocol}) in host mode`,
      consequence:
        "The new task cannot be placed on the node that runs the old one, which holds the host port ('host-mode port already in use'): it stays pending, the old task keeps serving and the update never completes (a start-first rollback hangs the same way).",
      fix: fixes.ingressPort(s, port),
    },
  ];
}

/** A fix toward start-first, plus the ports fix when a host-mode port would make start-first hang. */
function withIngress(s: ServiceSettings, fixes: FixWriter, fix: string): string {
  const port = s.hostPorts[0];
  return port ? `${fix}\n${fixes.ingressPort(s, port)}` : fix;
}

function migrations(s: ServiceSettings, fixes: FixWriter, extra: string[]): Draft[] {
  return s.commands.flatMap((cmd): Draft[] => {
    const use = findMigration(cmd, extra);
    if (!use) return [];
    return [
      {
        rule: "migrations_in_entrypoint",
        line: cmd.line,
        defaultAssumed: false,
        detail: `${cmd.key} runs migrations at container start (${use.matched}): ${JSON.stringify(cmd.form === "list" ? cmd.items : cmd.items.join(" "))}`,
        consequence:
          "A failing migration crash-loops every new task instead of stopping the pipeline before the swap, and a half-applied one changes the schema under the container still serving.",
        fix: fixes.startCommand(s, cmd, use),
      },
    ];
  });
}

function restart(s: ServiceSettings, fixes: FixWriter): Draft[] {
  const cond = s.restartCondition;
  const max = s.restartMaxAttempts;
  if (cond.value === "none" || max.value > 0) return [];
  const parts = [describeSetting(max)];
  if (cond.key !== max.key) parts.push(describeSetting(cond));
  return [
    {
      rule: "restart_unbounded",
      line: max.present ? max.line : s.line,
      defaultAssumed: !max.present || !cond.present,
      detail: parts.join("; "),
      consequence:
        "A crash-looping task is restarted without bound, re-running its start-up (and anything in it) for as long as it fails.",
      fix: fixes.restart(s),
    },
  ];
}

const LABELS: Record<DeployRule, string> = {
  no_healthcheck: "no health check gates the swap",
  healthcheck_not_readiness: "the health check does not test readiness",
  failure_action: "no automatic rollback",
  update_order: "the old task stops first",
  monitor_too_short: "the monitor window ends before the health check can fail",
  no_rollback_config: "no rollback_config",
  migrations_in_entrypoint: "migrations run at container start",
  restart_unbounded: "restarts are unbounded",
  start_first_host_port: "start-first with a host-mode port never completes",
};

const SITE_DOWN: DeployRule[] = [
  "no_healthcheck",
  "healthcheck_not_readiness",
  "update_order",
  "failure_action",
  "migrations_in_entrypoint",
  "start_first_host_port",
];

export const SAFE_VERDICT = "a failed deploy keeps the old container serving";

export function verdictFor(findings: DeployFinding[]): string {
  if (findings.length === 0) return SAFE_VERDICT;
  const byService = new Map<string, string[]>();
  for (const f of findings) {
    const labels = byService.get(f.service) ?? [];
    if (!labels.includes(LABELS[f.rule])) labels.push(LABELS[f.rule]);
    byService.set(f.service, labels);
  }
  const parts = [...byService].map(([service, labels]) => `${service}: ${labels.join(", ")}`);
  const head = findings.some((f) => SITE_DOWN.includes(f.rule))
    ? "a failed deploy can take the site offline"
    : "a failed deploy is not fully contained";
  return `${head} (${parts.join("; ")}).`;
}
