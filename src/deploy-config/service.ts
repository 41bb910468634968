import { resolve } from "node:path";
import { formatBytes, ReadRefusal, readBoundedText } from "../bounded-read.js";
import { SourceError } from "../deploy/errors.js";
import type { Deps, View } from "../deps.js";
import { InputError, MaiGateError } from "../errors.js";
import { showFileBounded } from "../git/repo.js";
import { readConfiguredService } from "../swarm/source.js";
import { checkComposeText } from "./compose.js";
import { checkDokploySwarm, fetchDokployApplication } from "./dokploy.js";
import { DeployConfigError } from "./errors.js";
import { SAFE_VERDICT } from "./rules.js";
import { checkSwarmService } from "./swarm.js";
import type { DeployCheck } from "./types.js";

/** The parts of `Deps` this module uses. */
type Uses = Pick<Deps, "cwd" | "git" | "repo" | "view">;

/** A compose / stack file bigger than this is refused: real ones are a few KiB. */
export const COMPOSE_MAX_BYTES = 1024 * 1024;
/** Reading the file (from the checkout or from main) takes at most this long. */
export const COMPOSE_READ_TIMEOUT_MS = 5000;

export interface DeployConfigResult {
  /** Every check that ran: the compose file, Dokploy's Swarm settings, the live Swarm service. */
  checks: DeployCheck[];
  /** Sources that could not be read (an unreachable Dokploy), each with its hint. */
  errors: { source: string; error: string; hint: string | null }[];
  /** No finding in any check that ran. */
  safe: boolean;
  verdict: string;
}

/**
 * Whether the next failed deploy would keep the old container serving: the compose / stack file
 * (a given path in this checkout, else `deploy.compose` read from main) and, where configured,
 * Dokploy's Swarm settings of the application and the live Swarm service from the Docker Engine
 * (with the settings that drifted from the stack file).
 */
export async function checkDeployConfig(
  ws: Uses,
  input: {
    file?: string | undefined;
    /** The CLI run by a person: a file anywhere on the host (still regular, bounded); tools read only the checkout. */
    anywhere?: boolean;
  } = {},
): Promise<DeployConfigResult> {
  const view = await viewUnlessOnlyAFile(ws, input.file);
  const deploy = view?.loaded.config.deploy ?? { timeout_ms: 3000, cache_seconds: 5 };
  const migrateCommands = deploy.migrate_command ? [deploy.migrate_command] : [];
  const checks: DeployCheck[] = [];
  const errors: DeployConfigResult["errors"] = [];
  const compose = await composeText(ws, view, input.file, input.anywhere ?? false);
  if (compose) checks.push(checkFile(compose.text, compose.label, migrateCommands));
  const remote: [string, () => Promise<DeployCheck>][] = [];
  const d = deploy.dokploy;
  if (d)
    remote.push([
      `dokploy:${d.application_id}`,
      async () => {
        const app = await fetchDokployApplication(
          { url: d.url, apiKey: d.api_key, applicationId: d.application_id },
          deploy.timeout_ms,
        );
        return checkDokploySwarm(app, d.application_id);
      },
    ]);
  if (deploy.docker || deploy.service)
    remote.push([
      `swarm:${deploy.service ?? "?"}`,
      async () => checkSwarmService((await readConfiguredService(deploy))!, compose, migrateCommands),
    ]);
  for (const [source, check] of remote) {
    try {
      checks.push(await check());
    } catch (err) {
      if (!(err instanceof SourceError) && !(err instanceof DeployConfigError)) throw err;
      errors.push({ source, error: err.message, hint: err.hint ?? null });
    }
  }
  if (checks.length === 0 && errors.length === 0) {
    throw new InputError(
      "no deploy configuration to check",
      "Pass a compose / stack file, or set deploy.compose (and deploy.dokploy or deploy.docker with deploy.service) in mai-gate.yaml.",
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
  const drifted = checks.flatMap((c) => (c.drift?.differences.length ? [c] : []));
  const drift = drifted.map(
    (c) =>
      `${c.source} differs from ${c.drift!.file} in ${c.drift!.differences.map((d) => d.setting).join(", ")}`,
  );
  return { checks, errors, safe, verdict: drift.length > 0 ? `${verdict}; ${drift.join("; ")}` : verdict };
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
async function viewUnlessOnlyAFile(ws: Uses, file: string | undefined): Promise<View | null> {
  try {
    return await ws.view();
  } catch (err) {
    if (file && err instanceof MaiGateError && (err.code === "not_a_repository" || err.code === "config"))
      return null;
    throw err;
  }
}

async function composeText(
  ws: Uses,
  view: View | null,
  file: string | undefined,
  anywhere: boolean,
): Promise<{ text: string; label: string } | null> {
  if (file) return { text: await readNamedFile(ws, file, anywhere), label: file };
  const configured = view?.loaded.config.deploy.compose;
  if (!view || !configured) return null;
  const ref = view.loaded.config.main_branch;
  const sha = view.refs.refs.get(ref) ?? ref;
  const shown = await showFileBounded(ws.git, sha, configured, COMPOSE_MAX_BYTES, COMPOSE_READ_TIMEOUT_MS);
  if (shown.ok) return { text: shown.text, label: configured };
  const fix = "Commit the stack file to main or fix deploy.compose.";
  if (shown.reason === "too_large")
    throw new InputError(
      `deploy.compose names ${configured}, which is ${shown.size} bytes on ${ref}, over the limit of ${formatBytes(COMPOSE_MAX_BYTES)}`,
      fix,
    );
  if (shown.reason === "not_a_file")
    throw new InputError(
      `deploy.compose names ${configured}, which is a ${shown.type} on ${ref}, not a file`,
      fix,
    );
  throw new InputError(`deploy.compose names ${configured}, which is not on ${ref}`, fix);
}

/**
 * A file named by the caller, read only when it is a regular file of at most COMPOSE_MAX_BYTES, within
 * COMPOSE_READ_TIMEOUT_MS, and (unless `anywhere`) inside the checkout, every symlink and `..`
 * resolved: a FIFO cannot hang the server and nothing outside the repository is read, let alone shown.
 */
async function readNamedFile(ws: Uses, file: string, anywhere: boolean): Promise<string> {
  const root = await ws
    .repo()
    .then((r) => r.root)
    .catch(() => ws.cwd);
  try {
    return await readBoundedText(resolve(ws.cwd, file), {
      maxBytes: COMPOSE_MAX_BYTES,
      timeoutMs: COMPOSE_READ_TIMEOUT_MS,
      ...(anywhere ? {} : { within: root }),
    });
  } catch (err) {
    if (!(err instanceof ReadRefusal)) throw err;
    const hint =
      err.reason === "outside"
        ? `Pass the path of a compose / stack file inside ${root} (relative to it, or committed on main as deploy.compose).`
        : err.reason === "too_large"
          ? `Pass the compose / stack file itself; it must be at most ${formatBytes(COMPOSE_MAX_BYTES)}.`
          : "Pass the path of a regular compose / stack file in this checkout.";
    throw new InputError(`cannot read ${file}: ${err.message}`, hint);
  }
}
