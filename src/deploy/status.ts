import { posix } from "node:path";
import { type Config, smokeMaxAgeMinutes } from "../config/schema.js";
import { checkDeployConfig } from "../deploy-config/service.js";
import type { Deps } from "../deps.js";
import { errorMessage, StateError } from "../errors.js";
import { forwardEntries } from "../migrations/catalog.js";
import { appliedVersions, sameMigrationName } from "../prod/history.js";
import { gatherRepoState, type RepoState, type RepoStateDeps } from "../repo/state.js";
import { acknowledgedRisks } from "../site/acknowledged.js";
import { swarmReport } from "../swarm/source.js";
import { latestDeployment } from "./dokploy.js";
import { SourceError } from "./errors.js";
import { giteaCi } from "./gitea.js";
import { checkHealth } from "./health.js";
import type { DeployStatus, HistoryReport, SmokeReport, SourceReport } from "./report.js";
import { judge } from "./verdict.js";

/** What deploy status uses of `Deps`. */
export type DeployStatusDeps = RepoStateDeps & Pick<Deps, "cwd" | "repo">;

const inFlight = new Map<string, Promise<DeployStatus>>();

/**
 * What state production is in, from every configured source queried in parallel with a timeout
 * each. Answers are shared for `deploy.cache_seconds` through the state store, so many workers'
 * servers polling at once cause one round of upstream requests, not one per worker.
 */
export async function deployStatus(
  ws: DeployStatusDeps,
  options: { fresh?: boolean } = {},
): Promise<DeployStatus> {
  const state = await gatherRepoState(ws, { fetch: true });
  const key = `deploy_status:${state.main.sha}`;
  const ttl = state.config.deploy.cache_seconds * 1000;
  if (!options.fresh && ttl > 0) {
    const cached = await readCache(state, key, ttl, ws.clock.now());
    if (cached) return cached;
    // Sharing is an economy: a state file too busy to claim or keep the answer means asking the
    // sources ourselves, never failing the call.
    const claimed = await state.store
      .claimInterval(`${key}:refresh`, ttl, ws.clock.now())
      .catch((err: unknown) => (err instanceof StateError ? true : Promise.reject(err)));
    if (!claimed) {
      const waited = await waitForCache(state, key, ttl, ws, state.config.deploy.timeout_ms + 1000);
      if (waited) return waited;
    }
  }
  let pending = inFlight.get(key);
  if (!pending) {
    pending = collect(ws, state).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const status = await pending;
  await state.store.setShared(key, JSON.stringify(status), status.checkedAt).catch((err: unknown) => {
    if (!(err instanceof StateError)) throw err;
    ws.logger.warn({ err: err.message }, "the deploy status could not be shared through the state file");
  });
  return status;
}

async function readCache(
  state: RepoState,
  key: string,
  ttl: number,
  now: number,
): Promise<DeployStatus | null> {
  const hit = await state.store.getShared(key);
  if (!hit || now - hit.at >= ttl) return null;
  return { ...(JSON.parse(hit.value) as DeployStatus), cachedMs: now - hit.at };
}

async function waitForCache(state: RepoState, key: string, ttl: number, ws: DeployStatusDeps, maxMs: number) {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    const hit = await readCache(state, key, ttl, ws.clock.now());
    if (hit) return hit;
  }
  return null;
}

async function collect(ws: DeployStatusDeps, state: RepoState): Promise<DeployStatus> {
  const { deploy } = state.config;
  const timeoutMs = deploy.timeout_ms;
  const sha = state.main.sha;
  const unset = unsetEnvRef(state);
  const [ci, live, dokploy, swarm, smoke, deployConfig] = await Promise.all([
    source(deploy.gitea ?? unset("deploy.gitea"), (g) =>
      giteaCi({ url: g.url, repo: g.repo, token: g.token }, sha, { timeoutMs }),
    ),
    source(deploy.health_url ?? unset("deploy.health_url"), (url) =>
      checkHealth(
        { url, shaPointer: deploy.health_sha_pointer, schemaPointer: deploy.health_schema_pointer },
        { timeoutMs },
      ),
    ),
    source(deploy.dokploy ?? unset("deploy.dokploy"), (d) =>
      latestDeployment({ url: d.url, apiKey: d.api_key, applicationId: d.application_id }, { timeoutMs }),
    ),
    source(
      unset("deploy.docker") ??
        unset("deploy.docker_tls") ??
        unset("deploy.service") ??
        (deploy.docker || deploy.service ? deploy : undefined),
      (d) => swarmReport(d),
    ),
    source(true, () => latestSmoke(state, ws.clock.now())),
    source(deploy.compose ?? deploy.dokploy ?? deploy.service ?? unset("deploy.compose"), async () => {
      const r = await checkDeployConfig(ws);
      const findings = r.checks.flatMap((c) => c.findings);
      return {
        safe: r.safe,
        verdict: r.verdict,
        findings: findings.length,
        rules: findings.map((x) => x.rule),
      };
    }),
  ]);
  const production = historyReport(state);
  const facts = {
    main: { ref: state.main.ref, sha },
    ci,
    live,
    production,
    dokploy,
    swarm,
    smoke,
    deployConfig,
  };
  const acknowledged = await acknowledgedRisks(
    state.store,
    (production.data?.pending ?? []).map((p) => p.file),
  ).catch((err: unknown) => {
    ws.logger.warn({ err: errorMessage(err) }, "acknowledged site risks could not be read");
    return [];
  });
  return { ...facts, acknowledged, ...judge(facts), checkedAt: ws.clock.now(), cachedMs: null };
}

/** A key mai-gate.yaml sets to `env:NAME` while NAME is not set: configured, but unusable here. */
class UnsetEnv {
  constructor(
    readonly key: string,
    readonly env: string,
  ) {}
}

function unsetEnvRef(state: RepoState): (key: string) => UnsetEnv | undefined {
  return (key) => {
    const ref = state.view.loaded.envRefs.find(
      (r) => !r.set && (r.key === key || r.key.startsWith(`${key}.`)),
    );
    return ref ? new UnsetEnv(ref.key, ref.env) : undefined;
  };
}

/** Runs one source when configured; a failure is reported, never thrown. */
async function source<C, T>(
  config: C | UnsetEnv | undefined,
  run: (config: C) => Promise<T>,
): Promise<SourceReport<T>> {
  if (config === undefined || config === null)
    return { status: "not_configured", ms: null, error: null, hint: null, data: null };
  if (config instanceof UnsetEnv) return unsetReport(config.key, config.env);
  const started = performance.now();
  try {
    const data = await run(config);
    return { status: "ok", ms: Math.round(performance.now() - started), error: null, hint: null, data };
  } catch (err) {
    const e = err as Error;
    return {
      status: "failed",
      ms: Math.round(performance.now() - started),
      error: e.message,
      hint: err instanceof SourceError ? (err.hint ?? null) : null,
      data: null,
    };
  }
}

function unsetReport<T>(key: string, env: string): SourceReport<T> {
  return {
    status: "failed",
    ms: null,
    error: `${key} names ${env}, which is not set`,
    hint: `Export ${env} where mai-gate runs (or remove ${key} from mai-gate.yaml).`,
    data: null,
  };
}

/** Production's history against main: what the next deploy applies, and what makes it crash-loop. */
export function historyReport(state: RepoState): SourceReport<HistoryReport> {
  const p = state.production;
  const unset = unsetEnvRef(state)("prod.dsn");
  if (p.status === "not_configured")
    return unset
      ? unsetReport(unset.key, unset.env)
      : { status: "not_configured", ms: null, error: null, hint: null, data: null };
  if (p.status === "unreachable")
    return { status: "failed", ms: null, error: p.error, hint: "Check prod.dsn.", data: null };
  const h = p.history;
  const applied = appliedVersions(h);
  const dir = state.config.migrations.dir;
  const main = forwardEntries(state.main.catalog);
  const rows = new Map<number, string[]>();
  for (const r of h.rows) if (r.name !== null) rows.set(r.version, [...(rows.get(r.version) ?? []), r.name]);
  const conflicts: HistoryReport["conflicts"] = [];
  for (const e of main) {
    const names = rows.get(e.version) ?? [];
    const name = names[0];
    // Several rows (duplicates allowed): a conflict only when none of them has main's name.
    if (h.namesKnown && name && !names.some((n) => sameMigrationName(n, e.name))) {
      conflicts.push({
        version: e.version,
        file: posix.join(dir, e.file),
        mainName: e.name,
        productionName: name,
      });
    }
  }
  const data: HistoryReport = {
    maxVersion: h.maxVersion,
    applied: h.rows.length,
    namesKnown: h.namesKnown,
    dirty: h.dirty,
    pending: main
      .filter((e) => !applied(e.version))
      .map((e) => ({ version: e.version, name: e.name, file: posix.join(dir, e.file) })),
    conflicts,
  };
  return { status: "ok", ms: null, error: null, hint: null, data };
}

/** The latest smoke run: on which main, against which live sha, how long ago, and whether it is stale. */
async function latestSmoke(state: RepoState, now: number): Promise<SmokeReport | null> {
  const [run] = await state.store.suiteRuns({ profile: "smoke", limit: 1 });
  if (!run) return null;
  const maxAgeMinutes = smokeMaxAgeMinutes(state.config);
  const ageMs = Math.max(0, now - (run.finishedAt ?? run.startedAt));
  return {
    id: run.id,
    state: run.state,
    head: run.head,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    onMainHead: run.head === state.main.sha,
    live: run.live ?? null,
    ageMs,
    maxAgeMinutes,
    stale: run.state !== "running" && ageMs > maxAgeMinutes * 60_000,
  };
}

export type DeployConfig = Config["deploy"];
