import type { Deps } from "../deps.js";
import { checkPgDumpAgainst, pgDumpMajor } from "../dryrun/pgdump.js";
import { errorMessage } from "../errors.js";
import { fetchRemote } from "../git/repo.js";
import { statementsAccess } from "../prod/statements.js";
import { engineVersion } from "../swarm/engine.js";
import { readSwarmService } from "../swarm/read.js";
import { swarmTarget } from "../swarm/source.js";
import { summarize } from "../swarm/summary.js";
import { latestDeployment } from "./dokploy.js";
import { SourceError } from "./errors.js";
import { giteaCi } from "./gitea.js";
import { checkHealth } from "./health.js";

/** The parts of `Deps` this module uses. */
type Uses = Pick<Deps, "git" | "probeSource" | "production" | "scratchEngine" | "view">;

/** One doctor finding: ok, broken (with the fix), or not configured (null). */
export interface DoctorCheck {
  check: string;
  ok: boolean | null;
  detail: string;
  fix: string | null;
}

/** `mai-gate doctor`: asks every configured source once and says what works and what to fix. */
export async function doctor(ws: Uses): Promise<DoctorCheck[]> {
  const view = await ws.view();
  const { config } = view.loaded;
  const out: DoctorCheck[] = [
    {
      check: "config",
      ok: true,
      detail: `read ${view.loaded.source.kind === "git" ? `from ${view.loaded.source.ref}` : view.loaded.source.path}`,
      fix: null,
    },
  ];
  const timeoutMs = config.deploy.timeout_ms;
  const remote = config.git.remote ?? config.main_branch.split("/")[0]!;
  const fetched = await fetchRemote(ws.git, remote, config.git.fetch_timeout_seconds * 1000);
  out.push(
    fetched.status === "fetched"
      ? { check: "git remote", ok: true, detail: `fetched ${remote} in ${fetched.ms} ms`, fix: null }
      : {
          check: "git remote",
          ok: false,
          detail: fetched.status === "failed" ? fetched.error : fetched.reason,
          fix: `Check that \`git fetch ${remote}\` works here without a prompt.`,
        },
  );
  const versions: Record<string, number> = {};
  out.push(
    await probe(
      "production",
      async () => {
        const source = ws.production(view.loaded);
        if (!source) return null;
        const [history, version] = await Promise.all([source.readHistory(), source.serverVersionNum()]);
        versions.production = version;
        return `PostgreSQL ${version}; ${history.table}: ${history.rows.length} applied, max ${history.maxVersion ?? "none"}${history.dirty ? ", DIRTY" : ""}`;
      },
      "Check prod.dsn (a read-only role) and its SELECT grant on the history table.",
    ),
  );
  out.push(
    await probe(
      "pg_stat_statements",
      async () => {
        const source = ws.production(view.loaded);
        if (!source) return null;
        if (config.prod.queries.limit === 0) return "not read (prod.queries.limit: 0)";
        return await statementsAccess(source);
      },
      "In production's database: CREATE EXTENSION pg_stat_statements (with pg_stat_statements in shared_preload_libraries), and GRANT pg_read_all_stats TO the read-only role, so dry runs can prepare the queries the live app runs.",
    ),
  );
  out.push(
    await probe(
      "data probes",
      async () => {
        const source = ws.probeSource(view.loaded);
        if (!source) return config.prod.dsn ? "off (prod.probe: false)" : null;
        return `read-only on ${config.prod.probe_dsn ? "prod.probe_dsn" : "prod.dsn"}: PostgreSQL ${await source.serverVersionNum()}, timeout ${config.prod.probe_timeout_ms} ms`;
      },
      "Check prod.probe_dsn (or prod.dsn): a read-only role with SELECT on the app's tables.",
    ),
  );
  out.push(
    await probe(
      "scratch server",
      async () => {
        if (!config.scratch.dsn) return "not set: dry runs use embedded PGlite";
        // The same checks a dry run makes: not production (by server identity), an unprivileged role.
        const engine = await ws.scratchEngine(view.loaded);
        versions.scratch = await engine.serverVersionNum();
        const kept = (await engine.inventory?.()) ?? [];
        const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
        const total = kept.reduce((n, d) => n + d.bytes, 0);
        const listed = kept
          .slice(0, 12)
          .map(
            (d) =>
              `${d.name} ${mb(d.bytes)}${d.lastUsed ? ` used ${new Date(d.lastUsed).toISOString()}` : ""}`,
          );
        const warn = engine.limitations.length > 0 ? `; WARNING: ${engine.limitations.join("; ")}` : "";
        return `PostgreSQL ${versions.scratch}; the role may create its clones and cannot leave them; ${kept.length} scratch database(s), ${mb(total)} (keep ${config.scratch.keep.templates} templates, ${config.scratch.keep.megabytes} MB)${listed.length ? `: ${listed.join(", ")}` : ""}${warn}`;
      },
      "Run `mai-gate scratch setup ADMIN_DSN` and point scratch.dsn at the role it creates, on a server that is not production's (or unset it for PGlite).",
    ),
  );
  out.push(
    await probe(
      "pg_dump",
      async () => {
        if (config.scratch.baseline !== "prod") return `not needed (baseline ${config.scratch.baseline})`;
        const dump = await pgDumpMajor(config.scratch.pg_dump);
        for (const v of Object.values(versions)) checkPgDumpAgainst(dump, v);
        return dump.text;
      },
      "Install a pg_dump at least as new as production's server.",
    ),
  );
  out.push(
    await probe(
      "gitea",
      async () => {
        const g = config.deploy.gitea;
        if (!g) return null;
        const sha = view.refs.refs.get(config.main_branch) ?? "HEAD";
        const ci = await giteaCi({ url: g.url, repo: g.repo, token: g.token }, sha, { timeoutMs });
        return `main's CI: ${ci.state} (${ci.statuses.length} status(es), runs via ${ci.runsSource})`;
      },
      "Check deploy.gitea.url, repo and the token's read access.",
    ),
  );
  out.push(
    await probe(
      "health URL",
      async () => {
        const url = config.deploy.health_url;
        if (!url) return null;
        const h = await checkHealth(
          {
            url,
            shaPointer: config.deploy.health_sha_pointer,
            schemaPointer: config.deploy.health_schema_pointer,
          },
          { timeoutMs },
        );
        if (!h.up) throw new Error(`the site is down: ${h.reason}`);
        return `HTTP ${h.status} in ${h.latencyMs} ms; sha ${h.sha ?? "not reported"}, schema ${h.schemaVersion ?? "not reported"}`;
      },
      "Make the endpoint answer 200 with its git sha and schema version in JSON.",
    ),
  );
  out.push(
    await probe(
      "dokploy",
      async () => {
        const d = config.deploy.dokploy;
        if (!d) return null;
        const latest = await latestDeployment(
          { url: d.url, apiKey: d.api_key, applicationId: d.application_id },
          { timeoutMs },
        );
        return latest
          ? `latest deployment ${latest.status} (${latest.createdAt ?? "?"})`
          : "no deployment yet";
      },
      "Check deploy.dokploy.url, application_id and the API key.",
    ),
  );
  out.push(
    await probe(
      "docker engine",
      async () => {
        const where = swarmTarget(config.deploy);
        if (!where) return null;
        const engine = await engineVersion(where.target, timeoutMs);
        const service = summarize(await readSwarmService(where.target, where.service, { timeoutMs }));
        return `Docker ${engine.version} (API ${engine.apiVersion}) at ${where.target.label}; service ${service.service}: ${service.summary}`;
      },
      "Check deploy.docker (the Swarm manager's engine) and deploy.service.",
    ),
  );
  return out;
}

async function probe(check: string, run: () => Promise<string | null>, fix: string): Promise<DoctorCheck> {
  try {
    const detail = await run();
    return detail === null
      ? { check, ok: null, detail: "not configured", fix: null }
      : { check, ok: true, detail, fix: null };
  } catch (err) {
    return {
      check,
      ok: false,
      detail: errorMessage(err),
      fix: err instanceof SourceError && err.hint ? err.hint : fix,
    };
  }
}
