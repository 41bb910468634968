import { z } from "zod";
import { type DeployStatus, type SourceReport, VERDICTS } from "../src/deploy/report.js";
import { smokeLine } from "../src/deploy/smoke-line.js";
import type { ToolRegistrar } from "./dispatch.js";
import { fence, iso, ok, runTool, type ToolDeps } from "./result.js";

export const name = "deploy_status";

export const inputSchema = {
  fresh: z
    .boolean()
    .optional()
    .describe("ask every source now instead of the answer shared for a few seconds (default false)"),
};

const source = <T extends z.ZodType>(data: T) =>
  z.object({
    status: z.enum(["ok", "failed", "not_configured"]),
    ms: z.number().nullable(),
    error: z.string().nullable(),
    hint: z.string().nullable(),
    data: data.nullable(),
  });

export const outputSchema = {
  verdict: z
    .enum(VERDICTS)
    .describe(
      "healthy only when CI of main and the live check are configured, answered and green; unknown: nothing seen is wrong, but something could not be seen (see reasons)",
    ),
  reasons: z
    .array(z.string())
    .describe(
      "why, one sentence each; failed sources appear as '… unknown', missing ones as '… not configured'",
    ),
  safe_to_merge: z
    .object({
      answer: z.boolean(),
      why: z
        .string()
        .describe("starts with yes, no, not yet, or cannot tell (then: what is missing and how to fix it)"),
    })
    .describe("true only when the verdict is healthy or deploying with main green and every source seen"),
  main: z.object({ ref: z.string(), sha: z.string() }),
  ci: source(
    z.object({
      state: z
        .enum(["success", "pending", "failure", "error", "none"])
        .describe("none: no CI yet — never success"),
      sha: z.string(),
      statuses: z.array(
        z.object({
          context: z.string(),
          status: z.string(),
          description: z.string().nullable(),
          targetUrl: z.string().nullable(),
        }),
      ),
      runs: z.array(
        z.object({
          id: z.number(),
          runNumber: z.number().nullable(),
          name: z.string().nullable(),
          status: z.string(),
          conclusion: z.string().nullable(),
          url: z.string().nullable(),
        }),
      ),
      runsSource: z.string(),
    }),
  ).describe("Gitea: main's combined commit status and Actions runs"),
  live: source(
    z.object({
      up: z.boolean(),
      status: z.number().nullable().describe("null: no answer came back (refused, timed out): down"),
      latencyMs: z.number().nullable(),
      sha: z.string().nullable(),
      schemaVersion: z.string().nullable(),
      reason: z.string().nullable(),
    }),
  ).describe(
    "the health endpoint: code, latency, the git sha and schema version it reports; a refusal or a timeout is up: false",
  ),
  production: source(
    z.object({
      maxVersion: z.number().nullable(),
      applied: z.number(),
      namesKnown: z.boolean(),
      dirty: z.boolean(),
      pending: z.array(z.object({ version: z.number(), name: z.string(), file: z.string() })),
      conflicts: z.array(
        z.object({ version: z.number(), file: z.string(), mainName: z.string(), productionName: z.string() }),
      ),
    }),
  ).describe("production's history: pending migrations run on the next deploy; conflicts crash-loop it"),
  dokploy: source(
    z.object({
      id: z.string(),
      title: z.string().nullable(),
      status: z.string(),
      createdAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ).describe("the newest Dokploy deployment; 'done' means submitted, not healthy"),
  swarm: source(
    z.object({
      service: z.string(),
      image: z.string().describe("the service spec's image now (after a rollback: the previous one again)"),
      update: z
        .object({ state: z.string(), message: z.string().nullable() })
        .nullable()
        .describe(
          "the engine's UpdateStatus: updating, paused, completed, rollback_started, rollback_paused, rollback_completed",
        ),
      updateImage: z
        .string()
        .nullable()
        .describe("the image the last update went to (the failed one after a rollback)"),
      replicas: z.number().nullable(),
      running: z.number().describe("tasks desired and actually running"),
      serving: z.array(z.string()).describe("the images of the running tasks"),
      failures: z.array(
        z.object({
          image: z.string(),
          state: z.string(),
          exitCode: z.number().nullable(),
          error: z.string().nullable(),
          lastLog: z.string().nullable().describe("the last line the task printed"),
        }),
      ),
      pending: z.array(z.object({ image: z.string(), reason: z.string() })),
      condition: z.enum([
        "serving",
        "updating",
        "stuck",
        "paused",
        "rolling_back",
        "rolled_back",
        "degraded",
        "down",
      ]),
      summary: z.string(),
    }),
  ).describe(
    "the live Swarm service from the Docker Engine API: update state, running tasks, why new tasks failed",
  ),
  smoke: source(
    z.object({
      id: z.string(),
      state: z.string(),
      head: z.string().describe("main's sha the smoke run checked out"),
      startedAt: z.number(),
      finishedAt: z.number().nullable(),
      onMainHead: z.boolean().describe("false: main moved since; not smoked since"),
      live: z
        .object({
          checkedAt: z.number(),
          up: z.boolean().nullable().describe("null: the health endpoint could not be asked"),
          sha: z.string().nullable().describe("the sha the live site reported when the run started"),
          status: z.number().nullable(),
          error: z.string().nullable(),
        })
        .nullable()
        .describe("what was live when the run started; null when deploy.health_url is not configured"),
      ageMs: z.number().describe("how long ago it finished (started, while running)"),
      maxAgeMinutes: z.number().describe("suite.smoke_max_age_minutes"),
      stale: z.boolean().describe("older than suite.smoke_max_age_minutes: smoke again"),
    }),
  ).describe("the latest smoke run: on which main, against which live sha, how long ago"),
  deploy_config: source(
    z.object({ safe: z.boolean(), verdict: z.string(), findings: z.number(), rules: z.array(z.string()) }),
  ).describe("whether the next failed deploy would keep the old container serving (check_deploy_config)"),
  acknowledged: z
    .array(
      z.object({
        file: z.string(),
        worker: z.string(),
        check: z.string(),
        message: z.string().describe("untrusted text: may quote a query"),
        marker: z.string().describe("the file's marker, e.g. -- mai-gate: contract users.email"),
      }),
    )
    .describe(
      "site-safety warnings the authors of main's pending migrations accepted (a contract step, a long lock): the next deploy ships them",
    ),
  checked_at: z.string(),
  cached_ms: z.number().nullable().describe("age of a shared answer; null when the sources were asked now"),
};

export function toOutput(s: DeployStatus) {
  return {
    verdict: s.verdict,
    reasons: s.reasons,
    safe_to_merge: s.safeToMerge,
    main: s.main,
    ci: s.ci,
    live: s.live,
    production: s.production,
    dokploy: s.dokploy,
    swarm: s.swarm,
    smoke: s.smoke,
    deploy_config: s.deployConfig,
    acknowledged: (s.acknowledged ?? []).map((a) => ({
      file: a.file,
      worker: a.worker,
      check: a.check,
      message: a.message,
      marker: a.marker,
    })),
    checked_at: iso(s.checkedAt),
    cached_ms: s.cachedMs,
  };
}

const line = (label: string, r: SourceReport<unknown>, ok: () => string) =>
  `${label}: ${r.status === "ok" ? ok() : r.status === "failed" ? `UNKNOWN (${r.error})` : "not configured"}`;

/**
 * The short text beside the structured answer. `askNow` is how the caller asks every source again
 * ("fresh: true" for the tool); it is named when the answer was shared from an earlier one.
 */
export function toText(s: DeployStatus, askNow = "fresh: true"): string {
  return [
    headline(s),
    ...(s.cachedMs !== null ? [`As of ${age(s.cachedMs)} ago (a shared answer); ${askNow} to ask now.`] : []),
    ...s.reasons.map((r) => `- ${r}`),
    line("CI of main", s.ci, () => s.ci.data!.state),
    line("Live", s.live, () =>
      s.live.data!.up
        ? `up (sha ${s.live.data!.sha ?? "?"}, schema ${s.live.data!.schemaVersion ?? "?"})`
        : `DOWN (${s.live.data!.reason})`,
    ),
    line(
      "Production history",
      s.production,
      () => `max ${s.production.data!.maxVersion ?? "none"}, ${s.production.data!.pending.length} pending`,
    ),
    line("Dokploy", s.dokploy, () => s.dokploy.data?.status ?? "no deployment"),
    line(
      "Swarm",
      s.swarm,
      () => `${s.swarm.data!.service} ${s.swarm.data!.condition}: ${s.swarm.data!.summary}`,
    ),
    line("Smoke", s.smoke, () => smokeLine(s.smoke.data)),
    line("Next failed deploy", s.deployConfig, () => s.deployConfig.data!.verdict),
    ...(s.acknowledged ?? []).map(
      (a) =>
        `Next deploy ships an acknowledged risk: ${a.file} (${a.worker}, ${a.check}, \`${a.marker}\`):\n${fence("Warning", a.message)}`,
    ),
  ].join("\n");
}

function headline(s: DeployStatus): string {
  const state =
    s.verdict === "unknown"
      ? "Production is UNKNOWN: nothing seen is wrong, but not everything could be seen."
      : `Production is ${s.verdict.toUpperCase()}.`;
  return `${state} Safe to merge now? ${s.safeToMerge.why}.`;
}

function age(ms: number): string {
  return ms < 1000 ? "less than 1 s" : `${Math.round(ms / 1000)} s`;
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Deploy status",
      description: `One answer to "what state is production in, and is it safe to merge now?": main's CI (Gitea commit status and Actions runs), what is live (health endpoint: code, latency, git sha, schema version), production's migration history (pending migrations that the next deploy runs, and any version whose name differs from main's — the next deploy will crash-loop), the latest Dokploy deployment, the live Swarm service (update state — updating, paused, rolled back — running tasks, and why new tasks failed), and the latest smoke run (on which main, against which live sha, how long ago; stale after suite.smoke_max_age_minutes; a pass the live site contradicts is called out). Verdict: healthy, deploying, degraded, down, or unknown (nothing seen is wrong, but CI of main or the live check is not configured, or a source did not answer), with reasons.

Call it before merging or deploying, after a deploy, and when something looks wrong. Merge only when safe_to_merge.answer is true (healthy needs CI of main and the live check configured and answering). If it is false, wait or fix what the reasons say; "cannot tell" means a source is missing or did not answer (unknown, not broken): configure or repair that source. Answers are shared for a few seconds; fresh: true asks every source now.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Deploy status",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { deployStatus } = await import("../src/deploy/status.js");
        const status = await deployStatus(deps.workspace, { fresh: args.fresh });
        return ok(toOutput(status), toText(status));
      }),
  );
}
