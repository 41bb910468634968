import type { DeployStatus, SourceReport } from "./report.js";

type Facts = Pick<DeployStatus, "ci" | "live" | "production" | "dokploy" | "swarm" | "smoke">;

/**
 * Something deploy_status could not see, so it cannot say "healthy" or "safe to merge: yes":
 * a source it needs that is not configured (CI of main, the live check), or any source whose
 * answer would change the verdict that failed to answer.
 */
export interface BlindSpot {
  /** The source's key in the answer: "ci", "live", "production", "dokploy", "swarm", "smoke". */
  source: keyof Facts;
  /** "not_configured" or "failed". */
  kind: "not_configured" | "failed";
  /** One clause after "cannot tell: ", e.g. "deploy.health_url is not configured, so …". */
  why: string;
}

/** Sources `healthy` needs: without them nothing says main is green or the site is up. */
const REQUIRED: Record<"ci" | "live", string> = {
  ci: "deploy.gitea is not configured, so nothing reads main's CI (set deploy.gitea: { url, repo, token: env:GITEA_TOKEN } in mai-gate.yaml)",
  live: "deploy.health_url is not configured, so nothing checks the live site (set deploy.health_url in mai-gate.yaml to the app's readiness URL)",
};

/** How a failed source reads after "cannot tell: ". */
const FAILED: Record<keyof Facts, (error: string) => string> = {
  ci: (e) => `main's CI could not be read (${e})`,
  live: (e) => `the live site could not be checked (${e})`,
  production: (e) => {
    const detail = e.replace(/^production is unreachable: /, "");
    return detail === e
      ? `production's history could not be read (${e})`
      : `production unreachable (${detail})`;
  },
  dokploy: (e) => `the latest Dokploy deployment could not be read (${e})`,
  swarm: (e) => `the Swarm service could not be read (${e})`,
  smoke: (e) => `the latest smoke run could not be read (${e})`,
};

/**
 * What could not be seen: the sources that failed, then the required ones not configured, each
 * in a fixed order. `deployConfig` is not among them: its answer is a risk that never changes the
 * verdict, so its failure does not either (it is still a reason).
 */
export function blindSpots(f: Facts): BlindSpot[] {
  const spots: BlindSpot[] = [];
  for (const source of ["ci", "live", "production", "dokploy", "swarm", "smoke"] as const) {
    const report: SourceReport<unknown> = f[source];
    if (report.status === "failed")
      spots.push({ source, kind: "failed", why: FAILED[source](report.error ?? "no detail") });
  }
  for (const source of ["ci", "live"] as const) {
    if (f[source].status === "not_configured")
      spots.push({ source, kind: "not_configured", why: REQUIRED[source] });
  }
  return spots;
}
