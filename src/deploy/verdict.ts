import type { DeployStatus, Verdict } from "./report.js";

type Facts = Pick<DeployStatus, "main" | "ci" | "live" | "production" | "dokploy" | "smoke" | "deployConfig">;

const RANK: Record<Verdict, number> = { healthy: 0, deploying: 1, degraded: 2, down: 3 };

/**
 * One verdict from every source, with the reasons: `down` (the live site does not answer ready),
 * `degraded` (something is broken that the next deploy or a person must fix), `deploying` (main is
 * ahead of what runs, or its pipeline has not finished), `healthy`. A source that failed is a reason
 * ("unknown"), never a verdict by itself.
 */
export function judge(f: Facts): {
  verdict: Verdict;
  reasons: string[];
  safeToMerge: { answer: boolean; why: string };
} {
  let verdict: Verdict = "healthy";
  const reasons: string[] = [];
  const say = (v: Verdict, reason: string) => {
    if (RANK[v] > RANK[verdict]) verdict = v;
    reasons.push(reason);
  };
  for (const [name, source] of Object.entries(f)) {
    if (typeof source === "object" && source && "status" in source && source.status === "failed") {
      reasons.push(`${name} unknown: ${source.error}`);
    }
  }
  const live = f.live.data;
  if (live && !live.up) say("down", `the live site is down: ${live.reason}`);
  const history = f.production.data;
  for (const c of history?.conflicts ?? []) {
    say(
      "degraded",
      `the next deploy will crash-loop: version ${c.version} is ${c.file} on main but "${c.productionName}" in production`,
    );
  }
  if (history?.dirty)
    say("degraded", "production's migrator is stuck (dirty history): the app will refuse to start");
  const ci = f.ci.data;
  if (ci?.state === "failure" || ci?.state === "error")
    say("degraded", `CI failed on main ${f.main.sha.slice(0, 10)}`);
  if (ci?.state === "pending") say("deploying", `CI is still running on main ${f.main.sha.slice(0, 10)}`);
  if (ci?.state === "none")
    say("deploying", `main ${f.main.sha.slice(0, 10)} has no CI status yet (no status is not success)`);
  const smoke = f.smoke.data;
  if (smoke && smoke.state === "failed")
    say("degraded", `the latest smoke run (${smoke.id}) failed${smoke.onMainHead ? " on main's HEAD" : ""}`);
  const deployment = f.dokploy.data;
  if (deployment?.status === "error")
    say("degraded", `the latest Dokploy deployment failed${deployment.error ? `: ${deployment.error}` : ""}`);
  if (deployment?.status === "running") say("deploying", "a Dokploy deployment is running");
  if (live?.up && live.sha && !sameSha(live.sha, f.main.sha)) {
    say("deploying", `live runs ${live.sha.slice(0, 10)}, main is ${f.main.sha.slice(0, 10)}`);
  }
  if (history && history.pending.length > 0) {
    say(
      "deploying",
      `${history.pending.length} migration(s) on main will run on the next deploy (${history.pending.map((p) => p.version).join(", ")})`,
    );
  }
  const settings = f.deployConfig.data;
  // A risk for the next failed deploy, not a state of production now: said, without changing the verdict.
  if (settings && !settings.safe && settings.findings > 0) {
    reasons.push(
      `risk: ${settings.verdict} (${[...new Set(settings.rules)].join(", ")}); see check_deploy_config`,
    );
  }
  if (reasons.length === 0)
    reasons.push("the live site answers ready, runs main's HEAD, and main's CI passed");
  return { verdict, reasons, safeToMerge: safeToMerge(verdict, f) };
}

function safeToMerge(verdict: Verdict, f: Facts): { answer: boolean; why: string } {
  if ((f.production.data?.conflicts.length ?? 0) > 0)
    return { answer: false, why: "no: main already holds a version production knows under another name" };
  if (verdict === "down")
    return { answer: false, why: "no: the live site is down; fix it before adding changes" };
  if (f.ci.status === "failed") return { answer: false, why: "cannot tell: main's CI could not be read" };
  if (f.ci.data?.state !== "success" && f.ci.status === "ok")
    return { answer: false, why: `not yet: main's CI is ${f.ci.data?.state}` };
  if (verdict === "degraded")
    return { answer: false, why: "no: something on main or in production needs fixing first" };
  return {
    answer: true,
    why:
      verdict === "deploying" ? "yes: main is green; a deploy is on its way" : "yes: main is green and live",
  };
}

function sameSha(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return n >= 7 && a.slice(0, n).toLowerCase() === b.slice(0, n).toLowerCase();
}
