import type { SuiteRunRecord } from "../store/types.js";
import type { GoReport } from "./go-output.js";

export type StepStatus =
  | "pending"
  | "running"
  | "skipped"
  | "passed"
  | "failed"
  | "timed_out"
  | "cancelled"
  | "not_found";

export interface StepReport {
  name: string;
  status: StepStatus;
  /** Why it was skipped or not run. */
  reason: string | null;
  durationMs: number | null;
  exitCode: number | null;
  logFile: string | null;
  outputBytes: number;
  /** The last lines of output (bounded). */
  tail: string | null;
  /** Go's failures, when the output is Go's. */
  go: GoReport | null;
}

export interface SuiteRun extends SuiteRunRecord {
  steps: StepReport[];
}

export interface Progress {
  done: number;
  total: number;
  message: string;
}

/** A suite run in this process: its record, its end, and a way to cancel it. */
export interface SuiteJob {
  run: SuiteRun;
  done: Promise<void>;
  controller: AbortController;
  listeners: Set<(p: Progress) => void>;
}

/**
 * The jobs this server process is running. One job per worker, profile, tree and suite at a time: a
 * second request for the same key joins the running one.
 */
export class SuiteJobs {
  private readonly byId = new Map<string, SuiteJob>();
  private readonly byKey = new Map<string, string>();

  get(id: string): SuiteJob | undefined {
    return this.byId.get(id);
  }

  running(key: string): SuiteJob | undefined {
    const id = this.byKey.get(key);
    return id ? this.byId.get(id) : undefined;
  }

  /** The newest job of a worker, running or finished in this process. */
  latest(worker: string): SuiteJob | undefined {
    return [...this.byId.values()]
      .filter((j) => j.run.worker === worker)
      .sort((a, b) => b.run.startedAt - a.run.startedAt)[0];
  }

  add(key: string, job: SuiteJob): void {
    this.byId.set(job.run.id, job);
    this.byKey.set(key, job.run.id);
    void job.done.finally(() => {
      if (this.byKey.get(key) === job.run.id) this.byKey.delete(key);
      this.trim();
    });
  }

  all(): SuiteJob[] {
    return [...this.byId.values()];
  }

  /** Keeps the newest finished jobs only; records hold the rest. */
  private trim(): void {
    const finished = [...this.byId.values()].filter((j) => j.run.state !== "running");
    for (const job of finished.sort((a, b) => a.run.startedAt - b.run.startedAt).slice(0, -50))
      this.byId.delete(job.run.id);
  }
}

export function notify(job: SuiteJob, progress: Progress): void {
  for (const listener of job.listeners) {
    try {
      listener(progress);
    } catch {
      /* a listener that throws must not stop the suite */
    }
  }
}
