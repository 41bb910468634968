import { SourceError } from "./errors.js";
import { type HttpResult, httpGet, parseHttpUrl } from "./http.js";
import { asRecord, serverMessage, stringField } from "./json.js";

/**
 * The latest Dokploy deployment of one application (`GET /api/deployment.all?applicationId=`,
 * authenticated with `x-api-key`). Its "done" means the update was submitted, not that the new
 * container is healthy.
 */
export interface DokployConfig {
  url: string;
  apiKey?: string | undefined;
  applicationId: string;
}

export interface Deployment {
  id: string;
  title: string | null;
  /** Dokploy's status: "running", "done", "error" (kept as given). */
  status: string;
  createdAt: string | null;
  finishedAt: string | null;
  /** Dokploy's `errorMessage`. */
  error: string | null;
}

const SOURCE = "dokploy";

export async function latestDeployment(
  cfg: DokployConfig,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<Deployment | null> {
  const res = await dokployGet(cfg, "deployment.all", options);
  if (!Array.isArray(res.json))
    throw new SourceError(
      SOURCE,
      "dokploy: deployment.all did not answer a list of deployments",
      "Check that deploy.dokploy.url is Dokploy's address (without /api).",
    );
  return newest(res.json.flatMap(toDeployment));
}

/**
 * `GET {url}/api/{endpoint}?applicationId=…` with `x-api-key`, for any Dokploy endpoint keyed by the
 * application: config problems and refusals are SourceErrors that say which setting to fix.
 */
export async function dokployGet(
  cfg: DokployConfig,
  endpoint: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<HttpResult> {
  const { url, headers } = dokployTarget(cfg, endpoint);
  const res = await httpGet(SOURCE, url, { ...options, headers, redirect: "manual" });
  expectOk(res, cfg.applicationId.trim());
  return res;
}

function dokployTarget(
  cfg: DokployConfig,
  endpoint: string,
): { url: string; headers: Record<string, string> } {
  const key = cfg.apiKey?.trim();
  if (!key)
    throw new SourceError(
      SOURCE,
      "dokploy: deploy.dokploy.api_key is not set",
      "Set deploy.dokploy.api_key: env:DOKPLOY_API_KEY in mai-gate.yaml and export DOKPLOY_API_KEY (Dokploy: Settings > Profile > API/CLI).",
    );
  const base = parseHttpUrl(SOURCE, "deploy.dokploy.url", cfg.url);
  const app = cfg.applicationId.trim();
  if (!app)
    throw new SourceError(
      SOURCE,
      "dokploy: deploy.dokploy.application_id is empty",
      "Set deploy.dokploy.application_id to the application's id (in the application's URL in Dokploy).",
    );
  const root = `${base.origin}${base.pathname}`.replace(/\/+$/, "").replace(/\/api$/, "");
  return {
    url: `${root}/api/${endpoint}?applicationId=${encodeURIComponent(app)}`,
    headers: { "x-api-key": key, Accept: "application/json" },
  };
}

function expectOk(res: HttpResult, app: string): void {
  if (res.ok) return;
  const said = serverMessage(res.json);
  const suffix = said ? `: ${said}` : "";
  const fail = (message: string, hint: string) => new SourceError(SOURCE, `dokploy: ${message}`, hint);
  if (res.status === 401)
    throw fail(
      `the API key was refused (HTTP 401)${suffix}`,
      "Check deploy.dokploy.api_key: create a key in Dokploy (Settings > Profile > API/CLI) and export it.",
    );
  if (res.status === 403)
    throw fail(
      `the API key has no access to application ${app} (HTTP 403)${suffix}`,
      "Use a key of a user who can see the application.",
    );
  if (res.status === 404)
    throw fail(
      `application ${app} not found, or the URL is not Dokploy (HTTP 404)${suffix}`,
      "Check deploy.dokploy.application_id and deploy.dokploy.url.",
    );
  if (res.status >= 300 && res.status < 400)
    throw fail(
      `deployment.all answered with a redirect (HTTP ${res.status})`,
      "Set deploy.dokploy.url to Dokploy's final address (for example https:// rather than http://).",
    );
  if (res.status >= 500)
    throw fail(
      `server error (HTTP ${res.status})${suffix}`,
      "Dokploy is failing: retry later or check its logs.",
    );
  throw fail(
    `unexpected HTTP ${res.status}${suffix}`,
    "Check deploy.dokploy.url and deploy.dokploy.application_id.",
  );
}

function toDeployment(entry: unknown): Deployment[] {
  const o = asRecord(entry);
  const id = o ? stringField(o, "deploymentId") : null;
  if (!o || id === null) return [];
  return [
    {
      id,
      title: stringField(o, "title"),
      status: stringField(o, "status") ?? "unknown",
      createdAt: stringField(o, "createdAt"),
      finishedAt: stringField(o, "finishedAt"),
      error: stringField(o, "errorMessage"),
    },
  ];
}

/** Newest by createdAt; on a tie (or no dates) the first listed wins, as Dokploy lists newest first. */
function newest(all: Deployment[]): Deployment | null {
  const time = (d: Deployment) => {
    const t = d.createdAt ? Date.parse(d.createdAt) : Number.NaN;
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  let best: Deployment | null = null;
  for (const d of all) if (best === null || time(d) > time(best)) best = d;
  return best;
}
