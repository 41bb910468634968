import { type Condition, fail, pass } from "./condition.js";
import type { EvidenceFacts, GateFacts } from "./facts.js";

/** The conditions that read the worker's records: its suite runs and its dry runs, by content keys. */

/** The latest finished clean-checkout run of this tree and suite definition decides. */
export function suitePassed(f: GateFacts, r: EvidenceFacts): Condition {
  const fix = "Commit everything, then call run_pre_push_suite until it passes for this HEAD.";
  if ("error" in r.suite)
    return fail(
      "suite",
      null,
      r.suite.error,
      "Configure suite.pre_push on main, or drop suite from gate.require.",
    );
  const hash = r.suite.hash;
  const tree = f.target.tree.slice(0, 12);
  const mine = r.suiteRuns.filter((run) => run.suiteHash === hash);
  const clean = mine.filter((run) => run.checkout?.kind === "clean");
  const latest = clean.find((run) => run.state !== "running");
  if (latest?.state === "passed")
    return pass(
      "suite",
      null,
      `suite run ${latest.id} passed on a clean checkout of tree ${tree}`,
      latest.id,
    );
  if (latest)
    return fail("suite", null, `the latest suite run ${latest.id} of tree ${tree} ${latest.state}`, fix);
  if (clean.length > 0)
    return fail(
      "suite",
      null,
      `suite run ${clean[0]!.id} of tree ${tree} is still running`,
      "Wait for it with suite_status.",
    );
  const why =
    mine.length > 0
      ? `suite run ${mine[0]!.id} ran in the worktree, not on a clean checkout of the commit: it is not evidence`
      : `no suite run for tree ${tree} (HEAD ${f.target.head.slice(0, 10)})`;
  return fail("suite", null, why, fix);
}

/**
 * The latest dry run that applied exactly the branch's new files, at their committed contents,
 * together, on the current baseline, decides. A subset or an older content does not count.
 */
export function dryRunPassed(f: GateFacts, r: EvidenceFacts): Condition {
  const fix =
    "Call dry_run_migration without a files argument (it rehearses the whole set together); then commit.";
  const wanted = new Map(f.changes.added.map((a) => [a.path, f.contents.get(a.path) ?? ""]));
  const exact = r.dryRuns.filter(
    (run) => run.files.length === wanted.size && run.files.every((x) => wanted.get(x.path) === x.sha256),
  );
  const current = exact
    .filter((run) => run.templateKey === r.templateKey)
    .sort((a, b) => b.createdAt - a.createdAt || failedFirst(a) - failedFirst(b));
  const n = `${wanted.size} new file(s)`;
  const latest = current[0];
  if (latest?.files.every((x) => x.outcome === "passed"))
    return pass(
      "dry_run",
      null,
      `dry run ${latest.runId} applied all ${n} together at their committed contents`,
      latest.runId,
    );
  if (latest) {
    const bad =
      latest.files.find((x) => x.outcome === "failed") ?? latest.files.find((x) => x.outcome !== "passed");
    return fail(
      "dry_run",
      null,
      `the latest dry run of these ${n} (${latest.runId}) ${bad?.outcome ?? "failed"} at ${bad?.path ?? "?"}`,
      fix,
    );
  }
  if (exact.length > 0)
    return fail(
      "dry_run",
      null,
      "the dry run of these files ran against an older baseline: main or production changed since",
      fix,
    );
  const partial = r.dryRuns.find((run) => run.files.some((x) => wanted.get(x.path) === x.sha256));
  if (partial)
    return fail(
      "dry_run",
      null,
      `dry run ${partial.runId} applied ${partial.files.map((x) => x.path).join(", ")}, not exactly the branch's ${n} at their committed contents`,
      fix,
    );
  if (r.dryRuns.length > 0)
    return fail("dry_run", null, "dry runs exist only for older contents of these files", fix);
  return fail("dry_run", null, `no dry run of the branch's ${n}`, fix);
}

function failedFirst(run: { files: { outcome: string }[] }): number {
  return run.files.every((x) => x.outcome === "passed") ? 1 : 0;
}
