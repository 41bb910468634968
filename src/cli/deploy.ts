import * as deployConfigTool from "../../tools/check-deploy-config.js";
import * as deployTool from "../../tools/deploy-status.js";
import { doctor } from "../deploy/doctor.js";
import { type DeployStatusDeps, deployStatus } from "../deploy/status.js";
import { checkDeployConfig } from "../deploy-config/service.js";
import type { Deps } from "../deps.js";
import { json, out, table } from "./output.js";

/** The parts of `Deps` this module uses. */
type Uses = DeployStatusDeps & Pick<Deps, "probeSource" | "scratchEngine">;

/**
 * `mai-gate status [--json]`: the deploy verdict, asking every source now (a person or a script
 * asking wants the present, not an answer shared from a moment ago). Exit 0 only when the verdict
 * is healthy (CI of main and the live check configured, answered and green); 1 for any other
 * verdict (deploying, unknown, degraded, down) or when the status cannot be computed at all.
 */
export async function statusCommand(ws: Uses, options: { json: boolean }): Promise<number> {
  const s = await deployStatus(ws, { fresh: true });
  if (options.json) json(deployTool.toOutput(s));
  else out(deployTool.toText(s, "mai-gate status"));
  return s.verdict === "healthy" ? 0 : 1;
}

/** `mai-gate doctor deploy [FILE]`: will the next failed deploy keep the site up? Exit 1 on any finding. */
export async function doctorDeployCommand(
  ws: Uses,
  file: string | undefined,
  options: { json: boolean },
): Promise<number> {
  const result = await checkDeployConfig(ws, { file, anywhere: true });
  if (options.json) json(deployConfigTool.toOutput(result));
  else out(deployConfigTool.toText(result));
  return result.safe ? 0 : 1;
}

/** `mai-gate doctor`: what works and what to fix. Exit 1 when anything configured is broken. */
export async function doctorCommand(ws: Uses, options: { json: boolean }): Promise<number> {
  const checks = await doctor(ws);
  if (options.json) json(checks);
  else {
    out(
      table(
        ["", "CHECK", "DETAIL"],
        checks.map((c) => [c.ok === null ? "-" : c.ok ? "ok" : "FIX", c.check, c.detail]),
      ),
    );
    for (const c of checks.filter((x) => x.ok === false)) out(`\n${c.check}: ${c.fix}`);
  }
  return checks.some((c) => c.ok === false) ? 1 : 0;
}
