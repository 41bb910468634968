/**
 * What a Swarm service's update status and tasks mean for the site, in one sentence: "update to
 * app:v2 rolled back: new tasks exited 1 ('migration 125 failed'); app:v1 is serving", "update
 * paused with no running task: the site is down".
 */
import type { SwarmService, SwarmTask } from "./read.js";

/**
 * serving: every replica runs and no update is under way; updating: an update is in progress;
 * stuck: an update waits on a task that cannot be placed; paused, rolling_back, rolled_back: the
 * last update failed; degraded: fewer tasks run than wanted; down: no task runs.
 */
export type SwarmCondition =
  | "serving"
  | "updating"
  | "stuck"
  | "paused"
  | "rolling_back"
  | "rolled_back"
  | "degraded"
  | "down";

export interface SwarmFailure {
  image: string;
  state: string;
  exitCode: number | null;
  error: string | null;
  lastLog: string | null;
}

export interface SwarmReport {
  service: string;
  /** The spec's image now. */
  image: string;
  /** The engine's UpdateStatus: updating, paused, completed, rollback_started, rollback_paused, rollback_completed. */
  update: { state: string; message: string | null } | null;
  /** The image the last update went to (the failed one after a rollback); null when there was none. */
  updateImage: string | null;
  replicas: number | null;
  running: number;
  /** The images of the running tasks. */
  serving: string[];
  /** The newest failed tasks (of the update's image when there is an update), at most 3. */
  failures: SwarmFailure[];
  /** Tasks that should run and are not placed or started, with the engine's reason. */
  pending: { image: string; reason: string }[];
  condition: SwarmCondition;
  summary: string;
}

const FAILED = new Set(["failed", "rejected"]);
const NOT_YET = new Set(["new", "pending", "assigned", "accepted", "preparing", "ready", "starting"]);

export function summarize(s: SwarmService): SwarmReport {
  const update = s.update;
  const rollingBack = update?.state.startsWith("rollback_") ?? false;
  const since = update?.startedAt ?? "";
  const running = s.tasks.filter((t) => t.desiredState === "running" && t.state === "running");
  const serving = [...new Set(running.map((t) => t.image))];
  const updateImage = update ? (rollingBack ? (s.previousImage ?? newestOther(s, since)) : s.image) : null;
  const failures = s.tasks
    .filter((t) => FAILED.has(t.state) && (updateImage === null || t.image === updateImage))
    .filter((t) => !update || (t.createdAt ?? "") >= since)
    .slice(0, 3)
    .map(({ image, state, exitCode, error, lastLog }) => ({ image, state, exitCode, error, lastLog }));
  const pending = s.tasks
    .filter((t) => t.desiredState === "running" && NOT_YET.has(t.state) && t.error)
    .map((t) => ({ image: t.image, reason: t.error! }));
  const base = {
    service: s.name,
    image: s.image,
    update: update ? { state: update.state, message: update.message } : null,
    updateImage,
    replicas: s.replicas,
    running: running.length,
    serving,
    failures,
    pending,
  };
  return { ...base, ...judge(base) };
}

/** The newest task image created since the update began that is not the spec's (the failed one). */
function newestOther(s: SwarmService, since: string): string | null {
  const other = s.tasks.find((t: SwarmTask) => t.image !== s.image && (t.createdAt ?? "") >= since);
  return other?.image ?? null;
}

type Facts = Omit<SwarmReport, "condition" | "summary">;

function judge(f: Facts): { condition: SwarmCondition; summary: string } {
  const state = f.update?.state ?? null;
  const what = f.updateImage ? `update to ${f.updateImage}` : `update of ${f.service}`;
  const failed = failurePhrase(f.failures, f.update !== null);
  const servingNow = `${f.serving.join(", ")} is serving${f.replicas !== null && f.running < f.replicas ? ` (${f.running} of ${f.replicas} running)` : ""}`;
  const wanted = f.replicas ?? Math.max(1, f.running);
  if (f.running === 0 && wanted > 0) {
    const head =
      state === "paused" || state === "rollback_paused"
        ? `${state === "paused" ? what : `rollback of the ${what}`} paused with no running task: the site is down`
        : `no task of ${f.service} is running: the site is down${state ? ` (${state.replace("_", " ")})` : ""}`;
    return { condition: "down", summary: failed ? `${head}; ${failed}` : head };
  }
  switch (state) {
    case "rollback_completed":
      return { condition: "rolled_back", summary: join(`${what} rolled back`, failed, servingNow) };
    case "rollback_started":
      return {
        condition: "rolling_back",
        summary: join(`${what} failed and is rolling back`, failed, servingNow),
      };
    case "rollback_paused":
      return { condition: "paused", summary: join(`rollback of the ${what} paused`, failed, servingNow) };
    case "paused":
      return { condition: "paused", summary: join(`${what} paused`, failed, servingNow) };
    case "updating": {
      const stuck = f.pending[0];
      if (stuck)
        return {
          condition: "stuck",
          summary: `${what} is stuck: a new task cannot be placed ('${stuck.reason}'); ${servingNow}`,
        };
      return { condition: "updating", summary: `${what} in progress; ${servingNow}` };
    }
  }
  if (f.replicas !== null && f.running < f.replicas)
    return {
      condition: "degraded",
      summary: join(
        `${f.running} of ${f.replicas} tasks of ${f.service} running (${f.serving.join(", ")})`,
        failed,
      ),
    };
  return { condition: "serving", summary: `${f.serving.join(", ")} is serving (${f.running} running)` };
}

/** "new tasks exited 1 ('migration 125 failed')": exit codes (or errors) and the last line printed. */
function failurePhrase(failures: SwarmFailure[], ofUpdate: boolean): string | null {
  if (failures.length === 0) return null;
  const codes = [...new Set(failures.flatMap((f) => (f.exitCode !== null ? [f.exitCode] : [])))];
  const errors = [...new Set(failures.flatMap((f) => (f.exitCode === null && f.error ? [f.error] : [])))];
  const how = [
    codes.length > 0 ? `exited ${codes.join(", ")}` : null,
    errors.length > 0 ? `failed (${errors.join("; ")})` : null,
  ]
    .filter(Boolean)
    .join(" or ");
  const said = failures.find((f) => f.lastLog)?.lastLog;
  return `${ofUpdate ? "new tasks" : "tasks"} ${how || "failed"}${said ? ` ('${said}')` : ""}`;
}

function join(...parts: (string | null)[]): string {
  const [head, ...rest] = parts.filter((p): p is string => p !== null && p !== "");
  return rest.length === 0 ? (head ?? "") : `${head}: ${rest.join("; ")}`;
}
