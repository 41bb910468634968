/** The Swarm service `deploy.docker` and `deploy.service` name, read and summarised for deploy status. */
import type { Config } from "../config/schema.js";
import { SourceError } from "../deploy/errors.js";
import { type EngineTarget, engineTarget, SOURCE } from "./engine.js";
import { readSwarmService, type SwarmService } from "./read.js";
import { type SwarmReport, summarize } from "./summary.js";

type DeployConfig = Config["deploy"];

/** The engine and the service name, or a SourceError when only one of the two keys is set. */
export function swarmTarget(deploy: DeployConfig): { target: EngineTarget; service: string } | null {
  if (!deploy.docker && !deploy.service) return null;
  if (!deploy.docker || !deploy.service)
    throw new SourceError(
      SOURCE,
      `docker: deploy.${deploy.docker ? "docker" : "service"} is set but deploy.${deploy.docker ? "service" : "docker"} is not`,
      "Set both: deploy.docker (the Swarm manager's engine) and deploy.service (the service's name, as `docker service ls` shows it).",
    );
  return { target: engineTarget(deploy.docker, deploy.docker_tls), service: deploy.service };
}

/** The live service's spec and tasks. */
export async function readConfiguredService(deploy: DeployConfig): Promise<SwarmService | null> {
  const where = swarmTarget(deploy);
  if (!where) return null;
  return readSwarmService(where.target, where.service, { timeoutMs: deploy.timeout_ms });
}

/** What the service's update status and tasks say, for deploy_status. */
export async function swarmReport(deploy: DeployConfig): Promise<SwarmReport> {
  const service = await readConfiguredService(deploy);
  if (!service) throw new Error("deploy.docker and deploy.service are not set");
  return summarize(service);
}
