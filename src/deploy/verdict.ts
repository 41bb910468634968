import { ago, short } from "../ages.js";
import type { SwarmCondition } from "../swarm/summary.js";
import { type BlindSpot, blindSpots } from "./blind-spots.js";
import type { DeployStatus, Verdict } from "./report.js";

type Facts = Pick<
  DeployStatus,
  "main" | "ci" | "live" | "production" | "dokploy" | "swarm" | "smoke" | "deployConfig"
>;

const RANK: Record<Verdict, number> = { healthy: 0, unknown: 1, deploying: 2, degraded: 3, down: 4 };

/**
 * One verdict from every source, with the reasons: `down` (the live site answers, and not ready; or
 * the Swarm service has no running task),
 * `degraded` (something is broken that the next deploy or a person must fix), `deploying` (main is
 * ahead of what runs, or its pipeline has not finished), `unknown` (nothing seen is wrong, but CI
 * of main or the live check is not configured, or a source failed to answer), `healthy` (CI of
 * main and the live check both configured and answered, and all is well). A source that failed is
 * a reason ("… unknown") and makes the verdict at most `unknown`, never `down` or `degraded`.
 */
export function judge(f: Facts): {
  verdict: Verdict;
  reasons: string[];
  safeToMerge: { answer: boolean; why: string };
} {
  let verdict: Verdict = "healthy";
  const reasons: string[] = [];
  const out: Out = {
    say(v, reason) {
      if (RANK[v] > RANK[verdict]) verdict = v;
      reasons.push(reason);
    },
    note: (reason) => reasons.push(reason),
  };
  const spots = blindSpots(f);
  unseen(f, spots, out);
  productionFindings(f, out);
  swarmFindings(f, out);
  pipelineFindings(f, out);
  smokeFindings(f, out);
  const settings = f.deployConfig.data;
  // A risk for the next failed deploy, not a state of production now: said, without changing the verdict.
  if (settings && !settings.safe && settings.findings > 0) {
    out.note(
      `risk: ${settings.verdict} (${[...new Set(settings.rules)].join(", ")}); see check_deploy_config`,
    );
  }
  if (verdict === "healthy") reasons.unshift(healthyReason(f));
  return { verdict, reasons, safeToMerge: safeToMerge(verdict, f, spots) };
}

/** `say` a reason that sets the verdict at least to `v`; `note` a reason that does not move it. */
interface Out {
  say(v: Verdict, reason: string): void;
  note(reason: string): void;
}

/** Failed sources ("… unknown") and the required ones not configured: at most `unknown`. */
function unseen(f: Facts, spots: BlindSpot[], out: Out): void {
  for (const [name, source] of Object.entries(f)) {
    if (typeof source === "object" && source && "status" in source && source.status === "failed") {
      const reason = `${name} unknown: ${source.error}`;
      // deployConfig's answer never moves the verdict, so neither does its failure.
      if (spots.some((s) => s.source === name)) out.say("unknown", reason);
      else out.note(reason);
    }
  }
  for (const s of spots)
    if (s.kind === "not_configured") out.say("unknown", `${s.source} not configured: ${s.why}`);
}

/** What the live site and production's history answered. */
function productionFindings(f: Facts, out: Out): void {
  const live = f.live.data;
  if (live && !live.up) out.say("down", `the live site is down: ${live.reason}`);
  const history = f.production.data;
  for (const c of history?.conflicts ?? []) {
    out.say(
      "degraded",
      `the next deploy will crash-loop: version ${c.version} is ${c.file} on main but "${c.productionName}" in production`,
    );
  }
  if (history?.dirty)
    out.say("degraded", "production's migrator is stuck (dirty history): the app will refuse to start");
  if (live?.up && live.sha && !sameSha(live.sha, f.main.sha)) {
    out.say("deploying", `live runs ${live.sha.slice(0, 10)}, main is ${f.main.sha.slice(0, 10)}`);
  }
  if (history && history.pending.length > 0) {
    out.say(
      "deploying",
      `${history.pending.length} migration(s) on main will run on the next deploy (${history.pending.map((p) => p.version).join(", ")})`,
    );
  }
}

/** What the live Swarm service's update state and tasks say (its condition decides the verdict). */
function swarmFindings(f: Facts, out: Out): void {
  const swarm = f.swarm.data;
  if (!swarm) return;
  const verdict: Record<SwarmCondition, Verdict | null> = {
    serving: null,
    updating: "deploying",
    stuck: "degraded",
    paused: "degraded",
    rolling_back: "degraded",
    rolled_back: "degraded",
    degraded: "degraded",
    down: "down",
  };
  const v = verdict[swarm.condition];
  if (v) out.say(v, `Swarm service ${swarm.service}: ${swarm.summary}`);
}

/** What CI of main, the smoke runs and Dokploy answered. */
function pipelineFindings(f: Facts, out: Out): void {
  const ci = f.ci.data;
  const main = f.main.sha.slice(0, 10);
  if (ci?.state === "failure" || ci?.state === "error") out.say("degraded", `CI failed on main ${main}`);
  if (ci?.state === "pending") out.say("deploying", `CI is still running on main ${main}`);
  if (ci?.state === "none")
    out.say("deploying", `main ${main} has no CI status yet (no status is not success)`);
  const deployment = f.dokploy.data;
  if (deployment?.status === "error")
    out.say(
      "degraded",
      `the latest Dokploy deployment failed${deployment.error ? `: ${deployment.error}` : ""}`,
    );
  if (deployment?.status === "running") out.say("deploying", "a Dokploy deployment is running");
}

/**
 * What the latest smoke run says, and where it no longer says anything: a failure degrades; a pass
 * that the live site contradicts (down now, or another sha since), that is older than
 * `suite.smoke_max_age_minutes`, or that ran on an older main is said, without moving the verdict.
 */
function smokeFindings(f: Facts, out: Out): void {
  const smoke = f.smoke.data;
  if (!smoke) return;
  const when = `${smoke.id}, ${ago(smoke.ageMs)} on main ${short(smoke.head)}`;
  if (smoke.state === "failed")
    out.say("degraded", `the latest smoke run failed (${when}${smoke.onMainHead ? ": main's HEAD" : ""})`);
  if (smoke.state !== "passed") return;
  const live = f.live.data;
  const seen = smoke.live;
  if (live && !live.up)
    out.note(
      `contradiction: live down, latest smoke passed before it (${when}): it says nothing about the site now; smoke again once the site is back`,
    );
  else if (live?.sha && seen?.sha && !sameSha(live.sha, seen.sha))
    out.note(
      `live changed since the latest smoke: it ran against live ${short(seen.sha)}, live now runs ${short(live.sha)}: not smoked since that deploy`,
    );
  if (seen && seen.up === false)
    out.note(
      `contradiction: the latest smoke passed while the live site was down when it started (${when}): its steps may not reach the live site`,
    );
  if (smoke.stale)
    out.note(
      `the latest smoke run is stale: ${ago(smoke.ageMs)}, older than suite.smoke_max_age_minutes (${smoke.maxAgeMinutes}); ask the tester for a smoke run`,
    );
  if (!smoke.onMainHead)
    out.note(`main moved since the latest smoke (it ran on ${short(smoke.head)}): not smoked since`);
}

function healthyReason(f: Facts): string {
  const runs = f.live.data?.sha
    ? "runs main's HEAD"
    : "reports no git sha (so which commit runs is not known)";
  return `the live site answers ready, ${runs}, and main's CI passed`;
}

/** "no" when something is known to be wrong, else "cannot tell" when anything was not seen, else yes. */
function safeToMerge(verdict: Verdict, f: Facts, spots: BlindSpot[]): { answer: boolean; why: string } {
  if ((f.production.data?.conflicts.length ?? 0) > 0)
    return { answer: false, why: "no: main already holds a version production knows under another name" };
  if (verdict === "down") {
    const what =
      f.live.data && !f.live.data.up ? "the live site is down" : "the site is down (no Swarm task runs)";
    return { answer: false, why: `no: ${what}; fix it before adding changes` };
  }
  if (verdict === "degraded")
    return { answer: false, why: "no: something on main or in production needs fixing first" };
  if (spots.length > 0) return { answer: false, why: `cannot tell: ${spots.map((s) => s.why).join("; ")}` };
  if (f.ci.data?.state !== "success")
    return { answer: false, why: `not yet: main's CI is ${f.ci.data?.state ?? f.ci.status}` };
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
