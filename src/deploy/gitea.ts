import { SourceError } from "./errors.js";
import { type HttpResult, httpGet, parseHttpUrl } from "./http.js";
import { asRecord, numberField, serverMessage, stringField } from "./json.js";

/**
 * Gitea's view of a commit's CI: the combined commit status
 * (`GET /api/v1/repos/{owner}/{repo}/commits/{ref}/status`, each entry's state in `status`) and
 * the Actions runs for the commit (`/actions/runs?head_sha=`, or `/actions/tasks` on older Gitea).
 */
export interface GiteaConfig {
  url: string;
  /** "owner/name" */
  repo: string;
  token?: string | undefined;
}

export interface CiStatus {
  /** "none" = no CI status at all yet; an empty combined status is never "success". */
  state: "success" | "pending" | "failure" | "error" | "none";
  sha: string;
  statuses: { context: string; status: string; description: string | null; targetUrl: string | null }[];
  /** From `/actions/tasks` these are jobs: `status` holds the result and `conclusion` is null. */
  runs: {
    id: number;
    runNumber: number | null;
    name: string | null;
    status: string;
    conclusion: string | null;
    url: string | null;
  }[];
  runsSource: "actions/runs" | "actions/tasks" | "unavailable";
}

type State = CiStatus["state"];
type Run = CiStatus["runs"][number];
interface Target {
  api: string;
  repo: string;
  headers: Record<string, string>;
}
interface Options {
  timeoutMs: number;
  signal?: AbortSignal;
}

const SOURCE = "gitea";
const STATES: readonly string[] = ["success", "pending", "failure", "error"];

export async function giteaCi(cfg: GiteaConfig, sha: string, options: Options): Promise<CiStatus> {
  const target = giteaTarget(cfg);
  if (!/^[^\s/]+$/.test(sha))
    throw new SourceError(SOURCE, `gitea: "${sha}" is not a commit sha`, "Pass the full sha of the commit.");
  const [status, runs] = await Promise.allSettled([
    combinedStatus(target, sha, options),
    actionRuns(target, sha, options),
  ]);
  if (status.status === "rejected") throw status.reason;
  if (runs.status === "rejected") throw runs.reason;
  return { ...status.value, ...runs.value };
}

function giteaTarget(cfg: GiteaConfig): Target {
  const token = cfg.token?.trim();
  if (!token)
    throw new SourceError(
      SOURCE,
      "gitea: deploy.gitea.token is not set",
      "Set deploy.gitea.token: env:GITEA_TOKEN in mai-gate.yaml and export GITEA_TOKEN (a token that can read the repository).",
    );
  const url = parseHttpUrl(SOURCE, "deploy.gitea.url", cfg.url);
  const repo = cfg.repo.trim();
  if (!/^[^\s/]+\/[^\s/]+$/.test(repo))
    throw new SourceError(
      SOURCE,
      `gitea: deploy.gitea.repo must be "owner/name", got "${cfg.repo}"`,
      'Set deploy.gitea.repo to the repository\'s owner and name, e.g. "acme/shop".',
    );
  const [owner = "", name = ""] = repo.split("/");
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return {
    api: `${base}/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`,
    repo,
    headers: { Authorization: `token ${token}`, Accept: "application/json" },
  };
}

function get(target: Target, path: string, options: Options): Promise<HttpResult> {
  return httpGet(SOURCE, `${target.api}${path}`, { ...options, headers: target.headers, redirect: "manual" });
}

async function combinedStatus(
  target: Target,
  sha: string,
  options: Options,
): Promise<Pick<CiStatus, "state" | "sha" | "statuses">> {
  const res = await get(target, `/commits/${encodeURIComponent(sha)}/status`, options);
  if (res.status === 404)
    throw new SourceError(
      SOURCE,
      `gitea: repository ${target.repo} or commit ${sha.slice(0, 10)} not found (HTTP 404)`,
      `Check deploy.gitea.repo and that ${sha.slice(0, 10)} has been pushed to Gitea.`,
    );
  expectOk(res, target, "commit status");
  const body = asRecord(res.json);
  if (!body) throw unexpected("the commit status answer is not a JSON object");
  const entries = Array.isArray(body.statuses) ? body.statuses : [];
  const statuses = entries.flatMap((entry) => {
    const o = asRecord(entry);
    if (!o) return [];
    const status = stringField(o, "status") ?? stringField(o, "state") ?? "unknown";
    const context = stringField(o, "context") ?? "";
    return [
      {
        context,
        status,
        description: stringField(o, "description"),
        targetUrl: stringField(o, "target_url"),
      },
    ];
  });
  const empty = statuses.length === 0 || numberField(body, "total_count") === 0;
  const state: State = empty ? "none" : combine(body.state, statuses);
  return { state, sha: stringField(body, "sha") ?? sha, statuses };
}

/** Gitea's own combined state when it is a known one; otherwise the worst entry ("warning" fails). */
function combine(top: unknown, statuses: { status: string }[]): State {
  if (typeof top === "string" && STATES.includes(top)) return top as State;
  const all = statuses.map((s) => s.status);
  if (all.includes("error")) return "error";
  if (all.some((s) => s === "failure" || s === "warning")) return "failure";
  return all.every((s) => s === "success") ? "success" : "pending";
}

async function actionRuns(
  target: Target,
  sha: string,
  options: Options,
): Promise<Pick<CiStatus, "runs" | "runsSource">> {
  const q = encodeURIComponent(sha);
  const runs = await get(target, `/actions/runs?head_sha=${q}&limit=50`, options);
  if (!unavailable(runs))
    return { runs: runList(runs, target, sha, "actions/runs"), runsSource: "actions/runs" };
  const tasks = await get(target, "/actions/tasks?limit=50", options);
  if (!unavailable(tasks))
    return { runs: runList(tasks, target, sha, "actions/tasks"), runsSource: "actions/tasks" };
  return { runs: [], runsSource: "unavailable" };
}

/** 404: this Gitea has no such endpoint; 403: Actions are disabled for the repository. */
function unavailable(res: HttpResult): boolean {
  return res.status === 404 || res.status === 403;
}

function runList(
  res: HttpResult,
  target: Target,
  sha: string,
  endpoint: "actions/runs" | "actions/tasks",
): Run[] {
  expectOk(res, target, endpoint);
  const list = asRecord(res.json)?.workflow_runs;
  if (!Array.isArray(list) && list !== null)
    throw unexpected(`the ${endpoint} answer has no workflow_runs list`);
  const wanted = sha.toLowerCase();
  return (list ?? []).flatMap((entry) => {
    const o = asRecord(entry);
    const id = o ? numberField(o, "id") : null;
    if (!o || id === null) return [];
    const head = stringField(o, "head_sha")?.toLowerCase();
    if (head && !head.startsWith(wanted)) return [];
    const isRun = endpoint === "actions/runs";
    return [
      {
        id,
        runNumber: numberField(o, "run_number"),
        name: isRun
          ? (stringField(o, "display_title") ?? stringField(o, "name"))
          : (stringField(o, "name") ?? stringField(o, "display_title")),
        status: stringField(o, "status") ?? "unknown",
        conclusion: isRun ? stringField(o, "conclusion") : null,
        url: stringField(o, "html_url") ?? stringField(o, "url"),
      },
    ];
  });
}

function expectOk(res: HttpResult, target: Target, what: string): void {
  if (res.ok) return;
  const said = serverMessage(res.json);
  const suffix = said ? `: ${said}` : "";
  if (res.status === 401 || res.status === 403)
    throw new SourceError(
      SOURCE,
      `gitea: the token was refused (HTTP ${res.status}) on ${what}${suffix}`,
      `Check deploy.gitea.token: it must be a valid Gitea token that can read ${target.repo}.`,
    );
  if (res.status >= 300 && res.status < 400)
    throw new SourceError(
      SOURCE,
      `gitea: ${what} answered with a redirect (HTTP ${res.status})`,
      "Set deploy.gitea.url to Gitea's final address (for example https:// rather than http://).",
    );
  if (res.status >= 500)
    throw new SourceError(
      SOURCE,
      `gitea: server error on ${what} (HTTP ${res.status})${suffix}`,
      "Gitea is failing: retry later or check the Gitea server.",
    );
  throw new SourceError(
    SOURCE,
    `gitea: unexpected HTTP ${res.status} on ${what}${suffix}`,
    "Check deploy.gitea.url and deploy.gitea.repo.",
  );
}

function unexpected(what: string): SourceError {
  return new SourceError(
    SOURCE,
    `gitea: ${what}`,
    "Check that deploy.gitea.url points at Gitea itself, not a proxy or login page.",
  );
}
