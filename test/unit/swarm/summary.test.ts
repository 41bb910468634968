import { describe, expect, it } from "vitest";
import type { SwarmService, SwarmTask } from "../../../src/swarm/read.js";
import { summarize } from "../../../src/swarm/summary.js";

// The conditions a real Swarm reaches in seconds are tested on one (test/integration/swarm-real.test.ts);
// these are the ones it does not reach quickly: several replicas, a rollback under way.
const task = (over: Partial<SwarmTask>): SwarmTask => ({
  id: "t",
  slot: 1,
  image: "app:v1",
  desiredState: "running",
  state: "running",
  message: null,
  error: null,
  exitCode: null,
  createdAt: "2026-01-01T00:00:00Z",
  lastLog: null,
  ...over,
});

const service = (over: Partial<SwarmService>): SwarmService => ({
  id: "s",
  name: "app_web",
  image: "app:v2",
  previousImage: "app:v1",
  replicas: 2,
  update: { state: "updating", message: null, startedAt: "2026-01-01T00:00:05Z" },
  spec: {},
  tasks: [],
  ...over,
});

const crashed = task({
  image: "app:v2",
  desiredState: "shutdown",
  state: "failed",
  error: "task: non-zero exit (2)",
  exitCode: 2,
  createdAt: "2026-01-01T00:00:06Z",
  lastLog: "panic: nil map",
});

describe("summarize: what a Swarm service's state means", () => {
  it("an update under way, with the old release still serving", () => {
    const r = summarize(service({ tasks: [task({}), task({ slot: 2 })] }));
    expect(r).toMatchObject({ condition: "updating", running: 2, serving: ["app:v1"] });
    expect(r.summary).toBe("update to app:v2 in progress; app:v1 is serving");
  });

  it("a rollback under way names the failed release from the tasks when the previous spec is gone", () => {
    const r = summarize(
      service({
        image: "app:v1",
        previousImage: null,
        update: { state: "rollback_started", message: null, startedAt: "2026-01-01T00:00:05Z" },
        tasks: [crashed, task({})],
      }),
    );
    expect(r.condition).toBe("rolling_back");
    expect(r.summary).toBe(
      "update to app:v2 failed and is rolling back: new tasks exited 2 ('panic: nil map'); app:v1 is serving (1 of 2 running)",
    );
  });

  it("a paused update with a task still up is degraded, not down; a failure older than the update is not its", () => {
    const old = { ...crashed, createdAt: "2025-12-31T00:00:00Z", lastLog: "older" };
    const r = summarize(
      service({
        update: { state: "paused", message: null, startedAt: "2026-01-01T00:00:05Z" },
        tasks: [crashed, old, task({})],
      }),
    );
    expect(r.condition).toBe("paused");
    expect(r.failures).toHaveLength(1);
    expect(r.summary).toBe(
      "update to app:v2 paused: new tasks exited 2 ('panic: nil map'); app:v1 is serving (1 of 2 running)",
    );
  });

  it("without an update: fewer tasks than replicas is degraded, none is down, all is serving", () => {
    const quiet = { update: null, image: "app:v1", previousImage: null };
    expect(summarize(service({ ...quiet, tasks: [task({})] }))).toMatchObject({
      condition: "degraded",
      summary: "1 of 2 tasks of app_web running (app:v1)",
    });
    const rejected = task({ desiredState: "shutdown", state: "rejected", error: "No such image: app:v1" });
    expect(summarize(service({ ...quiet, tasks: [rejected] }))).toMatchObject({
      condition: "down",
      summary: "no task of app_web is running: the site is down; tasks failed (No such image: app:v1)",
    });
    expect(summarize(service({ ...quiet, tasks: [task({}), task({ slot: 2 })] })).summary).toBe(
      "app:v1 is serving (2 running)",
    );
  });
});
