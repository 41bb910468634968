/** Lint a compose / Swarm stack file: will the next failed deploy keep the old container serving? */

import type { MigrationUse } from "./commands.js";
import { composeSettings } from "./compose-settings.js";
import { formatDuration } from "./duration.js";
import { DeployConfigError } from "./errors.js";
import { checkService, type FixWriter, verdictFor } from "./rules.js";
import type { ServiceSettings, StartCommand } from "./settings.js";
import type { DeployCheck } from "./types.js";
import { entry, parseYamlTree, type YNode } from "./yaml-tree.js";

export interface ComposeCheckOptions {
  /** The app's own migrate commands (e.g. "/app -migrate"); any of them in a start command is a finding. */
  migrateCommands?: string[];
}

export function checkComposeText(text: string, file: string, options: ComposeCheckOptions = {}): DeployCheck {
  const services = composeServices(parseYamlTree(text, file), file);
  const findings = services.flatMap(({ name, keyLine, node }) =>
    checkService(composeSettings(name, keyLine, node), file, yamlFixes, options.migrateCommands ?? []),
  );
  return {
    source: file,
    services: services.map((s) => s.name),
    findings,
    verdict: verdictFor(findings),
  };
}

/** Every service's settings, engine defaults applied; throws DeployConfigError when it is not a stack file. */
export function composeServiceSettings(text: string, file: string): ServiceSettings[] {
  return composeServices(parseYamlTree(text, file), file).map(({ name, keyLine, node }) =>
    composeSettings(name, keyLine, node),
  );
}

interface ComposeService {
  name: string;
  keyLine: number;
  node: YNode;
}

function composeServices(root: YNode | null, file: string): ComposeService[] {
  const notCompose = (message: string, line: number | null) =>
    new DeployConfigError(
      `${file} is not a compose file: ${message}`,
      "Point the check at the stack file `docker stack deploy -c` uses (a top-level `services:` mapping of service names to settings).",
      line,
    );
  if (root?.kind !== "map") throw notCompose("the document is not a mapping", root?.line ?? null);
  const services = entry(root, "services");
  if (!services) throw notCompose("it has no top-level `services` key", null);
  if (services.value.kind !== "map")
    throw notCompose("`services` is not a mapping of service names", services.keyLine);
  const out: ComposeService[] = [];
  for (const [name, { keyLine, value }] of services.value.entries) {
    if (name.startsWith("x-")) continue;
    if (value.kind !== "map") throw notCompose(`service \`${name}\` is not a mapping`, keyLine);
    out.push({ name, keyLine, node: value });
  }
  if (out.length === 0) throw notCompose("`services` is empty", services.keyLine);
  return out;
}

const q = (s: string) => JSON.stringify(s);
const flow = (items: string[]) => `[${items.map(q).join(", ")}]`;

/** Fixes as YAML, indented as they go under the service. */
const yamlFixes: FixWriter = {
  healthcheck: (s) =>
    [
      "healthcheck:",
      `  test: ${flow(["CMD", "curl", "-fsS", `http://localhost:${s.port}/readyz`])}`,
      "  interval: 10s",
      "  timeout: 3s",
      "  retries: 3",
      "  start_period: 30s",
    ].join("\n"),
  update: (_s, change) => {
    const lines = ["deploy:", "  update_config:"];
    if (change.failureAction) lines.push(`    failure_action: ${change.failureAction}`);
    if (change.order) lines.push(`    order: ${change.order}`);
    if (change.monitorMs !== undefined) lines.push(`    monitor: ${formatDuration(change.monitorMs)}`);
    return lines.join("\n");
  },
  rollback: () =>
    [
      "deploy:",
      "  rollback_config:",
      "    parallelism: 1",
      "    order: start-first",
      "    monitor: 30s",
    ].join("\n"),
  restart: () =>
    [
      "deploy:",
      "  restart_policy:",
      "    condition: on-failure",
      "    delay: 10s",
      "    max_attempts: 3",
      "    window: 120s",
    ].join("\n"),
  startCommand: (s, cmd, use) => startCommandFix(s, cmd, use),
  ingressPort: (_s, port) =>
    [
      `# ${port.key}: publish through the routing mesh, so the old and the new task can run side by side`,
      "# (or publish no port and let the proxy reach the service on an overlay network)",
      "ports:",
      `  - target: ${port.target}`,
      ...(port.published === null ? [] : [`    published: ${port.published}`]),
      `    protocol: ${port.protocol}`,
      "    mode: ingress",
    ].join("\n"),
};

function startCommandFix(s: ServiceSettings, cmd: StartCommand, use: MigrationUse): string {
  const image = s.image ?? "<image>";
  const [program, ...args] = use.removed.split(/\s+/);
  const oneOff =
    cmd.key === "entrypoint"
      ? ["docker run --rm --entrypoint", program ?? "", image, ...args].join(" ")
      : `docker run --rm ${image} ${use.removed}`;
  const note = `# migrations: run \`${use.removed}\` as a pre-deploy step after \`mai-gate check\` (a CI step, or a one-off \`${oneOff}\`), never at container start`;
  if (use.kept === null)
    return [`# remove \`${cmd.key}\` (or this service) from the stack: it only runs migrations`, note].join(
      "\n",
    );
  const kept = cmd.form === "list" ? flow(use.kept) : q(use.kept.join(" "));
  return [`${cmd.key}: ${kept}`, note].join("\n");
}
