import type { AcknowledgedRisk } from "../site/acknowledged.js";
import type { LiveSeen } from "../store/types.js";
import type { SwarmReport } from "../swarm/summary.js";
import type { Deployment } from "./dokploy.js";
import type { CiStatus } from "./gitea.js";
import type { HealthReport } from "./health.js";

/** One source of deploy status: what it said, or why it could not say. */
export interface SourceReport<T> {
  status: "ok" | "failed" | "not_configured";
  ms: number | null;
  error: string | null;
  hint: string | null;
  data: T | null;
}

export interface HistoryReport {
  maxVersion: number | null;
  applied: number;
  namesKnown: boolean;
  dirty: boolean;
  /** Main's migrations production has not applied: they run on the next deploy. */
  pending: { version: number; name: string; file: string }[];
  /** Versions on main whose name differs from production's row: the next deploy will crash-loop. */
  conflicts: { version: number; file: string; mainName: string; productionName: string }[];
}

export interface SmokeReport {
  id: string;
  state: string;
  /** Main's sha the run checked out. */
  head: string;
  startedAt: number;
  finishedAt: number | null;
  /** The run tested main's current HEAD. */
  onMainHead: boolean;
  /** What the health endpoint said when the run started; null when no health URL is configured. */
  live: LiveSeen | null;
  /** How long ago it finished (started, while running), when this answer was made. */
  ageMs: number;
  /** suite.smoke_max_age_minutes: older than this, the run says little about the site now. */
  maxAgeMinutes: number;
  stale: boolean;
}

/** Whether the next failed deploy would keep the old container serving (check_deploy_config). */
export interface DeployConfigReport {
  safe: boolean;
  verdict: string;
  findings: number;
  rules: string[];
}

/**
 * Best first: `healthy`, `unknown` (nothing seen is wrong, but CI of main or the live check is not
 * configured, or a source did not answer), `deploying`, `degraded`, `down`.
 */
export const VERDICTS = ["healthy", "unknown", "deploying", "degraded", "down"] as const;

export type Verdict = (typeof VERDICTS)[number];

export interface DeployStatus {
  main: { ref: string; sha: string };
  ci: SourceReport<CiStatus>;
  live: SourceReport<HealthReport>;
  production: SourceReport<HistoryReport>;
  dokploy: SourceReport<Deployment | null>;
  /** The live Swarm service (deploy.docker, deploy.service): its update state and tasks. */
  swarm: SourceReport<SwarmReport>;
  smoke: SourceReport<SmokeReport | null>;
  deployConfig: SourceReport<DeployConfigReport>;
  /** Site-safety warnings the authors of main's pending migrations accepted: the next deploy ships them. */
  acknowledged: AcknowledgedRisk[];
  verdict: Verdict;
  reasons: string[];
  safeToMerge: { answer: boolean; why: string };
  checkedAt: number;
  /** Answered from the shared cache (age in ms), not from the sources. */
  cachedMs: number | null;
}
