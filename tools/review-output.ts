import { z } from "zod";
import { ago, duration, short } from "../src/ages.js";
import { describeCondition } from "../src/gate/condition.js";
import { type Review, type ReviewedBranch, STALE_RULES, type WorkerReview } from "../src/review/types.js";
import { LEASE_STATES } from "../src/slots/lease-states.js";
import { iso } from "./result.js";
import { fetchOut, fetchSchema, productionOut, productionSchema } from "./shared-schemas.js";

/** The review as review_workers and `mai-gate review --json` answer it. */

const branchSchema = z.object({
  branch: z.string().describe("the branch once: its local and origin copies are one row"),
  push: z
    .enum(["pushed", "never_pushed", "unpushed_commits", "diverged"])
    .describe("from the refs: origin's copy at the local tip (pushed), missing, behind it, or diverged"),
  local_sha: z.string().nullable(),
  remote_sha: z.string().nullable().describe("origin's copy"),
  unpushed_commits: z.number(),
  sha: z.string().describe("the commit judged: the newer copy (the local one when they diverged)"),
  ahead_of_main: z.number().describe("commits the branch has that main lacks"),
  last_commit_at: z.string(),
  last_commit_age_seconds: z.number(),
  gate: z
    .object({
      green: z.boolean().nullable().describe("null: it could not be judged (see unmet)"),
      unmet: z.array(z.string()).describe("each failed required condition with its fix"),
    })
    .describe("the completion gate for sha, from the verdict engine gate_status uses, judged from the ref"),
  completion: z
    .object({
      id: z.string(),
      sha: z.string().describe("the commit the completion reported"),
      recorded_at: z.string(),
      reported: z.boolean(),
      at_tip: z.boolean().describe("false: the branch moved since; the completion no longer covers it"),
      status: z.string().describe('"still at tip" or "branch moved since: stale"'),
      summary: z.string().describe("the worker's summary (untrusted text)"),
    })
    .nullable()
    .describe("the latest completion recorded on this branch"),
});

const workerSchema = z.object({
  worker: z.string(),
  stale: z
    .array(z.object({ rule: z.enum(STALE_RULES), detail: z.string() }))
    .describe("empty: not stale; else each rule that fired (unpushed_leases, silent) with its facts"),
  next: z.string().describe("what the head does about this worker"),
  blame: z.array(z.string()).describe("files of this worker that must move off another's version"),
  last_activity_at: z.string().nullable().describe("newest commit, lease or completion"),
  branches: z.array(branchSchema),
  leases: z.array(
    z.object({
      lease_id: z.string(),
      version: z.number(),
      name: z.string(),
      state: z.enum(LEASE_STATES),
      age_seconds: z.number(),
      expires_at: z.string(),
      branch: z.string().nullable(),
      notes: z.array(z.string()),
    }),
  ),
  not_judged: z.array(z.string()).describe("branches beyond the review's bound, not judged"),
});

export const reviewSchema = {
  next: z.array(z.string()).describe("the head's next steps across workers, most urgent first"),
  workers: z.array(workerSchema),
  production_conflicts: z
    .array(
      z.object({ version: z.number(), file: z.string(), main_name: z.string(), production_name: z.string() }),
    )
    .describe("versions main and production name differently: the next deploy will crash-loop"),
  collisions: z.array(z.object({ version: z.number(), message: z.string(), blame: z.array(z.string()) })),
  main: z.object({ ref: z.string(), sha: z.string(), max_version: z.number().nullable() }),
  rules: z
    .object({ stale_hours: z.number(), silent_hours: z.number() })
    .describe("review.stale_hours and review.silent_hours from main's config"),
  production: productionSchema,
  fetch: fetchSchema,
  warnings: z.array(z.string()),
};

function branchOut(b: ReviewedBranch, now: number) {
  const t = b.tip;
  const gate =
    "error" in b.gate
      ? { green: null, unmet: [b.gate.error] }
      : { green: b.gate.green, unmet: b.gate.unmet.map(describeCondition) };
  const c = b.completion;
  return {
    branch: t.branch,
    push: t.push,
    local_sha: t.local,
    remote_sha: t.remote,
    unpushed_commits: t.unpushed,
    sha: t.tip,
    ahead_of_main: t.ahead,
    last_commit_at: iso(t.committedAt),
    last_commit_age_seconds: Math.round(Math.max(0, now - t.committedAt) / 1000),
    gate,
    completion: c
      ? {
          id: c.record.id,
          sha: c.record.head,
          recorded_at: iso(c.record.createdAt),
          reported: c.record.reported,
          at_tip: c.atTip,
          status: c.status,
          summary: c.record.summary,
        }
      : null,
  };
}

function workerOut(w: WorkerReview, now: number) {
  return {
    worker: w.worker,
    stale: w.stale,
    next: w.next,
    blame: w.blame.map((b) => b.message),
    last_activity_at: w.lastActivityAt > 0 ? iso(w.lastActivityAt) : null,
    branches: w.branches.map((b) => branchOut(b, now)),
    leases: w.leases.map((l) => ({
      lease_id: l.lease.id,
      version: l.lease.version,
      name: l.lease.name,
      state: l.state,
      age_seconds: Math.round(l.ageMs / 1000),
      expires_at: iso(l.lease.expiresAt),
      branch: l.lease.branch,
      notes: l.notes,
    })),
    not_judged: w.notJudged,
  };
}

export function reviewOutput(r: Review) {
  return {
    next: r.next,
    workers: r.workers.map((w) => workerOut(w, r.now)),
    production_conflicts: r.productionConflicts.map((c) => ({
      version: c.version,
      file: c.file,
      main_name: c.mainName,
      production_name: c.productionName,
    })),
    collisions: r.collisions.map((c) => ({
      version: c.version,
      message: c.message,
      blame: c.blame.map((b) => b.message),
    })),
    main: { ref: r.main.ref, sha: r.main.sha, max_version: r.main.maxVersion },
    rules: { stale_hours: r.settings.staleHours, silent_hours: r.settings.silentHours },
    production: productionOut(r.production),
    fetch: fetchOut(r.fetch),
    warnings: r.warnings,
  };
}

const PUSH_WORDS: Record<ReviewedBranch["tip"]["push"], string> = {
  pushed: "pushed",
  never_pushed: "NEVER PUSHED",
  unpushed_commits: "unpushed commits",
  diverged: "diverged from origin",
};

function branchLine(b: ReviewedBranch, now: number): string {
  const t = b.tip;
  const push = t.push === "unpushed_commits" ? `${t.unpushed} ${PUSH_WORDS[t.push]}` : PUSH_WORDS[t.push];
  const gate =
    "error" in b.gate
      ? `gate unknown (${b.gate.error})`
      : b.gate.green
        ? "gate green"
        : `gate red (${b.gate.unmet.length} unmet)`;
  const done = b.completion
    ? `; completion ${b.completion.record.id} at ${short(b.completion.record.head)}: ${b.completion.status}`
    : "";
  return `  ${t.branch} at ${short(t.tip)}: ${push}, ${t.ahead} ahead of main, last commit ${ago(now - t.committedAt)}; ${gate}${done}`;
}

/** One block per worker, then the head's next steps. */
export function reviewText(r: Review): string {
  const lines = [`Review of ${r.workers.length} worker(s) against main ${short(r.main.sha)}:`];
  for (const c of r.productionConflicts)
    lines.push(
      `PRODUCTION: version ${c.version} is "${c.mainName}" on main, "${c.productionName}" in production`,
    );
  for (const w of r.workers) {
    const stale =
      w.stale.length > 0 ? ` — STALE (${w.stale.map((f) => `${f.rule}: ${f.detail}`).join("; ")})` : "";
    lines.push(`${w.worker}${stale}`);
    for (const b of w.branches) lines.push(branchLine(b, r.now));
    if (w.branches.length === 0) lines.push("  no branch");
    for (const l of w.leases)
      lines.push(`  lease ${l.lease.version} ${l.lease.name}: ${l.state}, ${duration(l.ageMs)} old`);
    for (const b of w.blame) lines.push(`  MOVE: ${b.message}`);
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  lines.push(...r.next.map((n, i) => `${i === 0 ? "Next" : "Then"}: ${n}`));
  return lines.join("\n");
}
