/**
 * Lint a Dokploy application's Swarm settings (Advanced → Cluster Settings → Swarm Settings), read
 * from `GET /api/application.one?applicationId=…` with the `x-api-key` header.
 */
import { dokployGet } from "../deploy/dokploy.js";
import { SourceError } from "../deploy/errors.js";
import { asRecord, numberField } from "../deploy/json.js";
import type { MigrationUse } from "./commands.js";
import { dokploySettings } from "./dokploy-settings.js";
import { msToNs } from "./duration.js";
import { DeployConfigError } from "./errors.js";
import { checkService, type FixWriter, suggestedMonitorMs, unhealthyWithinMs, verdictFor } from "./rules.js";
import type { ServiceSettings, StartCommand } from "./settings.js";
import type { DeployCheck } from "./types.js";

const SOURCE = "dokploy";

export function checkDokploySwarm(app: unknown, applicationId: string): DeployCheck {
  const source = `dokploy:${applicationId}`;
  const record = asRecord(app);
  const known = ["applicationId", "appName", "healthCheckSwarm", "updateConfigSwarm", "restartPolicySwarm"];
  if (!record || !known.some((k) => Object.hasOwn(record, k)))
    throw new DeployConfigError(
      `${source}: the answer is not a Dokploy application`,
      "Check deploy.dokploy.url and deploy.dokploy.application_id: application.one should answer the application's JSON.",
      null,
    );
  const settings = dokploySettings(record, applicationId);
  const findings = checkService(settings, source, jsonFixes(record), []);
  return { source, services: [settings.service], findings, verdict: verdictFor(findings) };
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** Fixes as the JSON to paste into Dokploy's Swarm settings; a section is replaced as a whole. */
function jsonFixes(app: Record<string, unknown>): FixWriter {
  return {
    healthcheck: (s) =>
      json({
        Test: ["CMD", "curl", "-fsS", `http://localhost:${s.port}/readyz`],
        Interval: msToNs(10_000),
        Timeout: msToNs(3_000),
        StartPeriod: msToNs(30_000),
        Retries: 3,
      }),
    update: (s) => json(correctedUpdateConfig(asRecord(app.updateConfigSwarm), s)),
    rollback: () => json({ Parallelism: 1, Order: "start-first", Monitor: msToNs(30_000) }),
    restart: () =>
      json({ Condition: "on-failure", Delay: msToNs(10_000), MaxAttempts: 3, Window: msToNs(120_000) }),
    startCommand: (s, cmd, use) => startCommandFix(s, cmd, use),
    ingressPort: (_s, port) =>
      `Advanced → Ports: set the publish mode of ${port.published ?? "the"}:${port.target}/${port.protocol} to ingress (the routing mesh), or remove the port and let the domain route to the app`,
  };
}

/** The whole UpdateConfig with every update finding fixed at once, keeping the other fields. */
function correctedUpdateConfig(current: Record<string, unknown> | undefined, s: ServiceSettings) {
  const need = suggestedMonitorMs(unhealthyWithinMs(s).ms);
  const monitor = Math.max(numberField(current ?? {}, "Monitor") ?? 0, msToNs(need));
  return {
    Parallelism: numberField(current ?? {}, "Parallelism") ?? 1,
    Delay: numberField(current ?? {}, "Delay") ?? msToNs(10_000),
    FailureAction: "rollback",
    Monitor: monitor,
    MaxFailureRatio: numberField(current ?? {}, "MaxFailureRatio") ?? 0,
    Order: "start-first",
  };
}

function startCommandFix(s: ServiceSettings, cmd: StartCommand, use: MigrationUse): string {
  const kept = use.kept === null ? null : cmd.form === "list" ? use.kept : use.kept.join(" ");
  const field = cmd.key === "args" ? "Advanced → Arguments" : "Advanced → Run Command";
  return [
    kept === null ? `${field}: (empty: it only runs migrations)` : `${field}: ${json(kept)}`,
    `Pre-deploy step after \`mai-gate check\` (CI, or a one-off \`docker run --rm ${s.image ?? "<image>"} ${use.removed}\`): ${use.removed}`,
  ].join("\n");
}

export interface DokployAppConfig {
  url: string;
  apiKey?: string | undefined;
  applicationId: string;
}

/** `GET /api/application.one`: the application's JSON. SourceError for a missing key or no answer. */
export async function fetchDokployApplication(cfg: DokployAppConfig, timeoutMs: number): Promise<unknown> {
  const res = await dokployGet(cfg, "application.one", { timeoutMs });
  if (asRecord(res.json) === undefined)
    throw new SourceError(
      SOURCE,
      "dokploy: application.one did not answer an application as JSON",
      "Check that deploy.dokploy.url is Dokploy's address (without /api).",
    );
  return res.json;
}
