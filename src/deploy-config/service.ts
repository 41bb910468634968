import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { SourceError } from "../deploy/errors.js";
import { InputError, MaiGateError } from "../errors.js";
import { showFile } from "../git/repo.js";
import type { View, Workspace } from "../workspace.js";
import { checkComposeText } from "./compose.js";
import { checkDokploySwarm, fetchDokployApplication } from "./dokploy.js";
import { DeployConfigError } from "./errors.js";
import { SAFE_VERDICT } from "./rules.js";
import type { DeployCheck } from "./types.js";

export interface DeployConfigResult {
  /** Every check that ran: the compose file, Dokploy's Swarm settings. */
  checks: DeployCheck[];
  /** Sources that could not be read (an unreachable Dokploy), each with its hint. */
  errors: { source: string; error: string; hint: string | null }[];
  /** No finding in any check that ran. */
  safe: boolean;
  verdict: string;
}

/**
 * Whether the next failed deploy would keep the old container serving: the compose / stack file
 * (a given path in this checkout, else `deploy.compose` read from main) and, where Dokploy is
 * configured, the application's Swarm settings from its API.
 */
export async function checkDeployConfig(
  ws: Workspace,
  input: { file?: string | undefined } = {},
): Promise<DeployConfigResult> {
  const view = await viewUnlessOnlyAFile(ws, input.file);
  const deploy = view?.loaded.config.deploy ?? { timeout_ms: 3000, cache_seconds: 5 };
  const migrateCommands = deploy.migrate_command ? [deploy.migrate_command] : [];
  const checks: DeployCheck[] = [];
  const errors: DeployConfigResult["errors"] = [];
  const compose = await composeText(ws, view, input.file);
  if (compose) checks.push(checkFile(compose.text, compose.label, migrateCommands));
  if (deploy.dokploy) {
    const d = deploy.dokploy;
    try {
      const app = await fetchDokployApplication(
        { url: d.url, apiKey: d.api_key, applicationId: d.application_id },
        deploy.timeout_ms,
      );
      checks.push(checkDokploySwarm(app, d.application_id));
    } catch (err) {
      if (!(err instanceof SourceError) && !(err instanceof DeployConfigError)) throw err;
      errors.push({ source: `dokploy:${d.application_id}`, error: err.message, hint: err.hint });
    }
  }
  if (checks.length === 0 && errors.length === 0) {
    throw new InputError(
      "no deploy configuration to check",
      "Pass a compose / stack file, or set deploy.compose (and deploy.dokploy) in mai-gate.yaml.",
    );
  }
  const findings = checks.flatMap((c) => c.findings);
  const safe = findings.length === 0 && errors.length === 0;
  const verdict =
    findings.length > 0
      ? `the next failed deploy can take the site down: ${findings.length} finding(s)`
      : errors.length > 0
        ? `${SAFE_VERDICT} as far as could be read; ${errors.map((e) => e.source).join(", ")} could not be read`
        : SAFE_VERDICT;
  return { checks, errors, safe, verdict };
}

function checkFile(text: string, label: string, migrateCommands: string[]): DeployCheck {
  try {
    return checkComposeText(text, label, { migrateCommands });
  } catch (err) {
    if (err instanceof DeployConfigError)
      throw new InputError(`${err.message}${err.line ? ` (line ${err.line})` : ""}`, err.hint);
    throw err;
  }
}

/** With a file named, the check needs no repository or config: it reads just that file. */
async function viewUnlessOnlyAFile(ws: Workspace, file: string | undefined): Promise<View | null> {
  try {
    return await ws.view();
  } catch (err) {
    if (file && err instanceof MaiGateError && (err.code === "not_a_repository" || err.code === "config"))
      return null;
    throw err;
  }
}

async function composeText(
  ws: Workspace,
  view: View | null,
  file: string | undefined,
): Promise<{ text: string; label: string } | null> {
  if (file) {
    const path = resolve(ws.cwd, file);
    const text = await readFile(path, "utf8").catch(() => null);
    if (text === null)
      throw new InputError(`cannot read ${file}`, "Pass the path of the compose / stack file.");
    return { text, label: file };
  }
  const configured = view?.loaded.config.deploy.compose;
  if (!view || !configured) return null;
  const ref = view.loaded.config.main_branch;
  const sha = view.refs.refs.get(ref) ?? ref;
  const text = await showFile(ws.git, sha, configured);
  if (text === null)
    throw new InputError(
      `deploy.compose names ${configured}, which is not on ${ref}`,
      "Commit the stack file to main or fix deploy.compose.",
    );
  return { text, label: configured };
}
