/**
 * Lint a Dokploy application's Swarm settings (Advanced → Cluster Settings → Swarm Settings), read
 * from `GET /api/application.one?applicationId=…` with the `x-api-key` header.
 */
import { SourceError } from "../deploy/errors.js";
import { httpGet, parseHttpUrl } from "../deploy/http.js";
import { asRecord, numberField, serverMessage } from "../deploy/json.js";
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
  const key = cfg.apiKey?.trim();
  if (!key)
    throw new SourceError(
      SOURCE,
      "dokploy: deploy.dokploy.api_key is not set",
      "Set deploy.dokploy.api_key: env:DOKPLOY_API_KEY in mai-gate.yaml and export DOKPLOY_API_KEY (Dokploy: Settings > Profile > API/CLI).",
    );
  const app = cfg.applicationId.trim();
  if (!app)
    throw new SourceError(
      SOURCE,
      "dokploy: deploy.dokploy.application_id is empty",
      "Set deploy.dokploy.application_id to the application's id (in the application's URL in Dokploy).",
    );
  const base = parseHttpUrl(SOURCE, "deploy.dokploy.url", cfg.url);
  const root = `${base.origin}${base.pathname}`.replace(/\/+$/, "").replace(/\/api$/, "");
  const url = `${root}/api/application.one?applicationId=${encodeURIComponent(app)}`;
  const res = await httpGet(SOURCE, url, {
    timeoutMs,
    headers: { "x-api-key": key, Accept: "application/json" },
    redirect: "manual",
  });
  if (!res.ok) throw statusError(res.status, serverMessage(res.json), app);
  if (asRecord(res.json) === undefined)
    throw new SourceError(
      SOURCE,
      "dokploy: application.one did not answer an application as JSON",
      "Check that deploy.dokploy.url is Dokploy's address (without /api).",
    );
  return res.json;
}

function statusError(status: number, said: string | null, app: string): SourceError {
  const suffix = said ? `: ${said}` : "";
  const fail = (message: string, hint: string) => new SourceError(SOURCE, `dokploy: ${message}`, hint);
  if (status === 401)
    return fail(
      `the API key was refused (HTTP 401)${suffix}`,
      "Check deploy.dokploy.api_key: create a key in Dokploy (Settings > Profile > API/CLI) and export it.",
    );
  if (status === 403)
    return fail(
      `the API key has no access to application ${app} (HTTP 403)${suffix}`,
      "Use a key of a user who can see the application.",
    );
  if (status === 404 || status === 400)
    return fail(
      `application ${app} not found, or the URL is not Dokploy (HTTP ${status})${suffix}`,
      "Check deploy.dokploy.application_id and deploy.dokploy.url.",
    );
  if (status >= 300 && status < 400)
    return fail(
      `application.one answered with a redirect (HTTP ${status})`,
      "Set deploy.dokploy.url to Dokploy's final address (for example https:// rather than http://).",
    );
  if (status >= 500)
    return fail(
      `server error (HTTP ${status})${suffix}`,
      "Dokploy is failing: retry later or check its logs.",
    );
  return fail(
    `unexpected HTTP ${status}${suffix}`,
    "Check deploy.dokploy.url and deploy.dokploy.application_id.",
  );
}
