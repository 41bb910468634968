import { z } from "zod";
import type { DeployConfigResult } from "../src/deploy-config/service.js";
import type { ToolRegistrar } from "./dispatch.js";
import { ok, runTool, type ToolDeps } from "./result.js";

export const name = "check_deploy_config";

export const inputSchema = {
  file: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe("a compose / stack file in this checkout; default: deploy.compose read from main"),
};

const findingOut = z.object({
  service: z.string(),
  rule: z.enum([
    "no_healthcheck",
    "healthcheck_not_readiness",
    "failure_action",
    "update_order",
    "monitor_too_short",
    "no_rollback_config",
    "migrations_in_entrypoint",
    "restart_unbounded",
    "start_first_host_port",
  ]),
  file: z
    .string()
    .nullable()
    .describe('the stack file, "dokploy:<id>" or "swarm:<service>" (the live service)'),
  line: z.number().nullable(),
  default_assumed: z.boolean().describe("the key is absent and the engine's default was applied"),
  detail: z.string(),
  consequence: z.string().describe("what happens on the next failed deploy"),
  fix: z
    .string()
    .describe(
      "the exact YAML to write (Dokploy: its JSON; the live service: the docker service update command)",
    ),
});

export const outputSchema = {
  safe: z.boolean().describe("no finding: a failed deploy keeps the old container serving"),
  verdict: z.string(),
  checks: z.array(
    z.object({
      source: z.string(),
      services: z.array(z.string()),
      verdict: z.string(),
      findings: z.array(findingOut),
      drift: z
        .object({
          file: z.string(),
          service: z.string(),
          differences: z.array(z.object({ setting: z.string(), file: z.string(), live: z.string() })),
        })
        .nullable()
        .describe("the live service only: the settings whose deployed value differs from the stack file's"),
    }),
  ),
  errors: z.array(z.object({ source: z.string(), error: z.string(), hint: z.string().nullable() })),
};

export function toOutput(r: DeployConfigResult) {
  return {
    safe: r.safe,
    verdict: r.verdict,
    checks: r.checks.map((c) => ({
      source: c.source,
      services: c.services,
      verdict: c.verdict,
      drift: c.drift ?? null,
      findings: c.findings.map((f) => ({
        service: f.service,
        rule: f.rule,
        file: f.file,
        line: f.line,
        default_assumed: f.defaultAssumed,
        detail: f.detail,
        consequence: f.consequence,
        fix: f.fix,
      })),
    })),
    errors: r.errors,
  };
}

export function toText(r: DeployConfigResult): string {
  const lines = [`Deploy settings: ${r.verdict}.`];
  for (const c of r.checks) {
    for (const f of c.findings) {
      lines.push(
        `- ${f.file ?? c.source}${f.line ? `:${f.line}` : ""} [${f.service}] ${f.rule}: ${f.detail}${f.defaultAssumed ? " (engine default assumed)" : ""}`,
      );
      lines.push(`  On the next failed deploy: ${f.consequence}`);
      lines.push(`  Fix:\n${f.fix.replace(/^/gm, "    ")}`);
    }
  }
  for (const c of r.checks)
    for (const d of c.drift?.differences ?? [])
      lines.push(`- drift: ${c.source} has ${d.setting} ${d.live}; ${c.drift!.file} says ${d.file}`);
  for (const e of r.errors)
    lines.push(`- ${e.source} could not be read: ${e.error}${e.hint ? ` (${e.hint})` : ""}`);
  return lines.join("\n");
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Check deploy settings",
      description: `Whether the next failed deploy would keep the old container serving, from the stack's deploy settings: the compose / stack file (deploy.compose on main, or a file you name) and, where configured, Dokploy's Swarm settings and the live Swarm service read from the Docker Engine (deploy.docker, deploy.service) — what is deployed, with the settings that drifted from the stack file. Per service it reports, with file and line: no health check; a health check that does not test readiness; update failure_action not rollback; order not start-first; start-first with a port published in host mode (the new task can never be placed beside the old one, so the update never completes); monitor shorter than the health check can fail in; no rollback_config; migrations in the entrypoint instead of a pre-deploy step; a restart policy that cycles without bound. Engine defaults are applied where a key is absent, and said.

Call it when changing deploy settings or after an outage; apply each finding's fix (the exact YAML, or the docker service update command for the live service) until it says a failed deploy keeps the old container serving.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Check deploy settings",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { checkDeployConfig } = await import("../src/deploy-config/service.js");
        const result = await checkDeployConfig(deps.workspace, { file: args.file });
        return ok(toOutput(result), toText(result));
      }),
  );
}
