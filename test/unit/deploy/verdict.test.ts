import { describe, expect, it } from "vitest";
import type { CiStatus } from "../../../src/deploy/gitea.js";
import type { HealthReport } from "../../../src/deploy/health.js";
import type { DeployStatus, SmokeReport, SourceReport } from "../../../src/deploy/report.js";
import { judge } from "../../../src/deploy/verdict.js";
import type { SwarmReport } from "../../../src/swarm/summary.js";

const MAIN = "0123456789abcdef0123456789abcdef01234567";

const ok = <T>(data: T): SourceReport<T> => ({ status: "ok", ms: 1, error: null, hint: null, data });
const failed = <T>(error: string): SourceReport<T> => ({
  status: "failed",
  ms: 1,
  error,
  hint: null,
  data: null,
});
const missing = <T>(): SourceReport<T> => ({
  status: "not_configured",
  ms: null,
  error: null,
  hint: null,
  data: null,
});

const ci = (state: CiStatus["state"]): SourceReport<CiStatus> =>
  ok({ state, sha: MAIN, statuses: [], runs: [], runsSource: "actions/runs" });
const live = (over: Partial<HealthReport> = {}): SourceReport<HealthReport> =>
  ok({ up: true, status: 200, latencyMs: 3, sha: MAIN, schemaVersion: "2", reason: null, ...over });

const swarm = (condition: SwarmReport["condition"]): SwarmReport => ({
  service: "app_web",
  image: "app:v1",
  update: null,
  updateImage: null,
  replicas: 1,
  running: condition === "down" ? 0 : 1,
  serving: condition === "down" ? [] : ["app:v1"],
  failures: [],
  pending: [],
  condition,
  summary: `summary of ${condition}`,
});

/** Every source configured, answering and green; each case changes what it names. */
function facts(over: Partial<DeployStatus> = {}) {
  return {
    main: { ref: "origin/main", sha: MAIN },
    ci: ci("success"),
    live: live(),
    production: ok({ maxVersion: 2, applied: 2, namesKnown: true, dirty: false, pending: [], conflicts: [] }),
    dokploy: ok(null),
    swarm: missing<never>(),
    smoke: ok(null),
    deployConfig: missing<never>(),
    ...over,
  };
}

describe("judge: healthy and safe only when CI of main and the live check answered and all is well", () => {
  const cases: [string, Partial<DeployStatus>, string, boolean, string][] = [
    ["all configured, answered, green", {}, "healthy", true, "yes: main is green and live"],
    ["CI not configured", { ci: missing() }, "unknown", false, "cannot tell: deploy.gitea is not configured"],
    ["live check not configured", { live: missing() }, "unknown", false, "cannot tell: deploy.health_url"],
    [
      "Gitea failed",
      { ci: failed("gitea: x") },
      "unknown",
      false,
      "cannot tell: main's CI could not be read",
    ],
    ["live check failed", { live: failed("health: y") }, "unknown", false, "cannot tell: the live site"],
    [
      "production unreachable",
      { production: failed("production is unreachable: connect ECONNREFUSED") },
      "unknown",
      false,
      "cannot tell: production unreachable (connect ECONNREFUSED)",
    ],
    [
      "Dokploy failed",
      { dokploy: failed("dokploy: z") },
      "unknown",
      false,
      "cannot tell: the latest Dokploy",
    ],
    [
      "only deploy_config failed: a risk source",
      { deployConfig: failed("compose: no file") },
      "healthy",
      true,
      "yes",
    ],
    [
      "down is an answer",
      { live: live({ up: false, status: 503, reason: "HTTP 503" }), ci: missing() },
      "down",
      false,
      "no: the live site is down",
    ],
    ["CI failing, live missing", { ci: ci("failure"), live: missing() }, "degraded", false, "no: something"],
    ["CI pending", { ci: ci("pending") }, "deploying", false, "not yet: main's CI is pending"],
    [
      "live behind main, CI green",
      { live: live({ sha: "feedface00" }) },
      "deploying",
      true,
      "yes: main is green; a deploy",
    ],
    [
      "live behind main, production unreachable",
      { live: live({ sha: "feedface00" }), production: failed("production is unreachable: timeout") },
      "deploying",
      false,
      "cannot tell: production unreachable (timeout)",
    ],
    [
      "the Swarm service could not be read",
      { swarm: failed("docker: no socket") },
      "unknown",
      false,
      "cannot tell: the Swarm service could not be read",
    ],
    ["the Swarm service serves", { swarm: ok(swarm("serving")) }, "healthy", true, "yes"],
    [
      "a Swarm update in progress",
      { swarm: ok(swarm("updating")) },
      "deploying",
      true,
      "yes: main is green; a deploy",
    ],
    ["a Swarm update rolled back", { swarm: ok(swarm("rolled_back")) }, "degraded", false, "no: something"],
    [
      "a Swarm update stuck on a host port",
      { swarm: ok(swarm("stuck")) },
      "degraded",
      false,
      "no: something",
    ],
    [
      "no Swarm task runs while the health URL still answers",
      { swarm: ok(swarm("down")) },
      "down",
      false,
      "no: the site is down (no Swarm task runs)",
    ],
  ];
  for (const [name, over, verdict, answer, why] of cases) {
    it(`${name} → ${verdict}, safe: ${answer}`, () => {
      const j = judge(facts(over));
      expect(j.verdict).toBe(verdict);
      expect(j.safeToMerge.answer).toBe(answer);
      expect(j.safeToMerge.why.startsWith(why)).toBe(true);
      expect(j.reasons.length).toBeGreaterThan(0);
    });
  }

  it("a failed source is a reason; only deploy_config's failure leaves the verdict alone", () => {
    expect(judge(facts({ deployConfig: failed("compose: no file") })).reasons).toEqual([
      "the live site answers ready, runs main's HEAD, and main's CI passed",
      "deployConfig unknown: compose: no file",
    ]);
  });

  it("the Swarm service's summary is the reason", () => {
    expect(judge(facts({ swarm: ok(swarm("rolled_back")) })).reasons).toContain(
      "Swarm service app_web: summary of rolled_back",
    );
  });

  it("healthy without a reported sha says that which commit runs is not known", () => {
    expect(judge(facts({ live: live({ sha: null }) })).reasons[0]).toBe(
      "the live site answers ready, reports no git sha (so which commit runs is not known), and main's CI passed",
    );
  });

  describe("the latest smoke run against the live site", () => {
    const MIN = 60_000;
    const smoke = (over: Partial<SmokeReport> = {}): SourceReport<SmokeReport | null> =>
      ok({
        id: "S1",
        state: "passed",
        head: MAIN,
        startedAt: 0,
        finishedAt: 1,
        onMainHead: true,
        live: { checkedAt: 0, up: true, sha: MAIN, status: 200, error: null },
        ageMs: 12 * MIN,
        maxAgeMinutes: 30,
        stale: false,
        ...over,
      });

    it("a fresh pass on main's HEAD against the live sha adds nothing", () => {
      const j = judge(facts({ smoke: smoke() }));
      expect(j.verdict).toBe("healthy");
      expect(j.reasons).toHaveLength(1);
    });

    it("a failure degrades; a stale pass, a moved main and a changed live sha are notes that leave the verdict", () => {
      expect(judge(facts({ smoke: smoke({ state: "failed" }) })).verdict).toBe("degraded");
      const j = judge(
        facts({
          smoke: smoke({
            stale: true,
            ageMs: 45 * MIN,
            onMainHead: false,
            live: { checkedAt: 0, up: true, sha: "0ldc0ffee0", status: 200, error: null },
          }),
        }),
      );
      expect(j.verdict).toBe("healthy");
      expect(j.reasons.join("\n")).toContain("the latest smoke run is stale: 45 min ago");
      expect(j.reasons.join("\n")).toContain("it ran against live 0ldc0ff, live now runs 0123456");
      expect(j.reasons.join("\n")).toContain("main moved since the latest smoke");
    });

    it("live down after a pass is called out as a contradiction", () => {
      const j = judge(facts({ live: live({ up: false, status: 503, reason: "HTTP 503" }), smoke: smoke() }));
      expect(j.verdict).toBe("down");
      expect(j.reasons).toContainEqual(
        expect.stringContaining("contradiction: live down, latest smoke passed before it"),
      );
    });
  });
});
