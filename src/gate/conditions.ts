import { resolveBaseline } from "../dryrun/baseline.js";
import { chainKeys } from "../dryrun/templates.js";
import { holdersOf, namesDiffer } from "../slots/holders.js";
import type { RepoState } from "../slots/sources.js";
import type { DryRunRecord, LeaseRow } from "../store/types.js";
import { suiteDefinition } from "../suite/definition.js";
import type { Workspace } from "../workspace.js";
import type { AddedMigration, EditedMigration } from "./migrations.js";
import type { GateTarget } from "./target.js";

export type ConditionKind = "clean_tree" | "suite" | "lease" | "dry_run" | "collision" | "no_edits";

/** One gate condition: passed, failed, or not observable (null), and how to fix it. */
export interface Condition {
  kind: ConditionKind;
  /** The migration file it is about, for per-file conditions. */
  file: string | null;
  passed: boolean | null;
  detail: string;
  fix: string | null;
  /** Id of the record that satisfied it (suite run, dry run). */
  evidence: string | null;
}

const pass = (
  kind: ConditionKind,
  file: string | null,
  detail: string,
  evidence: string | null = null,
): Condition => ({
  kind,
  file,
  passed: true,
  detail,
  fix: null,
  evidence,
});
const fail = (kind: ConditionKind, file: string | null, detail: string, fix: string): Condition => ({
  kind,
  file,
  passed: false,
  detail,
  fix,
  evidence: null,
});

export function cleanTree(target: GateTarget, dirtyPaths: string[]): Condition {
  if (target.dirty === null) {
    return {
      kind: "clean_tree",
      file: null,
      passed: null,
      detail: "judged from the branch's ref: the worktree is not visible",
      fix: null,
      evidence: null,
    };
  }
  if (!target.dirty) return pass("clean_tree", null, "no uncommitted changes");
  const shown = dirtyPaths.slice(0, 5).join(", ") + (dirtyPaths.length > 5 ? ", …" : "");
  return fail(
    "clean_tree",
    null,
    `uncommitted changes: ${shown}`,
    "Commit (or remove) them, then run the suite again for the new tree.",
  );
}

/** A passing, clean suite run of the pre_push profile for exactly this tree and suite definition. */
export async function suitePassed(state: RepoState, target: GateTarget): Promise<Condition> {
  let hash: string;
  try {
    hash = suiteDefinition(state.view.loaded, "pre_push").hash;
  } catch (err) {
    return fail(
      "suite",
      null,
      (err as Error).message,
      "Configure suite.pre_push on main, or drop suite from gate.require.",
    );
  }
  const runs = await state.store.suiteRuns({ tree: target.tree, profile: "pre_push", limit: 20 });
  const current = runs.filter((r) => r.suiteHash === hash);
  const ok = current.find((r) => r.state === "passed" && !r.dirty);
  if (ok) return pass("suite", null, `suite run ${ok.id} passed for tree ${target.tree.slice(0, 12)}`, ok.id);
  const latest = current[0];
  const why = !latest
    ? `no suite run for tree ${target.tree.slice(0, 12)} (HEAD ${target.head.slice(0, 10)})`
    : latest.state === "passed"
      ? `suite run ${latest.id} passed on a dirty worktree, which does not count`
      : `the latest suite run ${latest.id} for this tree is ${latest.state}`;
  return fail(
    "suite",
    null,
    why,
    "Commit everything, then call run_pre_push_suite until it passes for this HEAD.",
  );
}

export function leaseHeld(file: AddedMigration, open: LeaseRow[], worker: string): Condition {
  if (!file.parsed)
    return fail(
      "lease",
      file.path,
      "the file name does not follow the migration layout",
      "Rename it to the file reserve_migration_slot answers.",
    );
  const { version, name } = file.parsed;
  const lease = open.find((l) => l.version === version);
  if (lease && lease.worker === worker && lease.name === name)
    return pass("lease", file.path, `lease ${lease.id} of ${worker}`, lease.id);
  const why = lease
    ? `version ${version} is leased to ${lease.worker} as "${lease.name}"`
    : `no lease holds version ${version}`;
  return fail(
    "lease",
    file.path,
    why,
    `Call reserve_migration_slot("${name}") and rename the file to the name it answers.`,
  );
}

/** The dry run record for this file's exact content, against the current baseline and main. */
export function dryRunPassed(
  file: AddedMigration,
  records: DryRunRecord[],
  templateKey: string | null,
): Condition {
  const mine = records.filter((r) => r.file === file.path);
  const exact = mine.filter((r) => r.sha256 === file.sha256);
  const ok = exact.find((r) => r.outcome === "passed" && r.templateKey === templateKey);
  if (ok) return pass("dry_run", file.path, `dry run ${ok.runId} passed for this content`, ok.runId);
  const fix = "Call dry_run_migration and fix what it reports until it passes, then commit.";
  if (exact.some((r) => r.outcome === "passed")) {
    return fail(
      "dry_run",
      file.path,
      "the dry run passed against an older baseline: main or production changed since",
      fix,
    );
  }
  if (exact.length > 0)
    return fail("dry_run", file.path, `the latest dry run of this content ${exact[0]!.outcome}`, fix);
  if (mine.length > 0)
    return fail(
      "dry_run",
      file.path,
      "a dry run passed for an older content of this file, not for this one",
      fix,
    );
  return fail("dry_run", file.path, "no dry run of this file", fix);
}

/** Nothing on main or in production holds the file's version under another name (or at all, applied). */
export function noCollision(file: AddedMigration, state: RepoState): Condition {
  if (!file.parsed) return fail("collision", file.path, "not a migration file name", "Rename it.");
  const { version, name } = file.parsed;
  const moveFix = `Call reserve_migration_slot("${name}") again to move to a free version, then rename the file.`;
  const holders = holdersOf(state, version);
  const main = holders.find((h) => h.source === "main");
  if (main && namesDiffer(main.name, name))
    return fail("collision", file.path, `main already has version ${version} as ${main.file}`, moveFix);
  if (main) {
    const same = state.main.catalog.byVersion.get(version)?.some((e) => e.oid === file.oid);
    if (same) return pass("collision", file.path, `main already has ${main.file} with the same content`);
    return fail(
      "collision",
      file.path,
      `main already has ${main.file} with other content`,
      "Drop your copy; add a new migration for further changes.",
    );
  }
  const p = state.production;
  if (p.status === "unreachable")
    return fail(
      "collision",
      file.path,
      `production could not be checked: ${p.error}`,
      "Retry when production is reachable.",
    );
  const row = holders.find((h) => h.source === "production");
  if (row) {
    const detail = namesDiffer(row.name, name)
      ? `production applied ${version} as "${row.name}"`
      : `production already applied ${version}`;
    return fail("collision", file.path, detail, moveFix);
  }
  if (state.config.migrations.ordering === "strict") {
    const applied = Math.max(
      state.main.catalog.maxVersion ?? 0,
      p.status === "checked" ? (p.history.maxVersion ?? 0) : 0,
    );
    if (version <= applied)
      return fail("collision", file.path, `out of order: main already has ${applied}`, moveFix);
  }
  const note = p.status === "not_configured" ? " (production not configured)" : "";
  return pass("collision", file.path, `version ${version} is free on main and in production${note}`);
}

export function noEdits(edited: EditedMigration[], state: RepoState): Condition {
  if (edited.length === 0)
    return pass("no_edits", null, "no migration main already has was edited, renamed or deleted");
  const list = edited.map((e) => `${e.path} ${e.change}${e.to ? ` to ${e.to}` : ""}`).join("; ");
  return fail(
    "no_edits",
    null,
    list,
    `Restore them (git checkout ${state.main.ref} -- <path>) and put further changes in a new migration.`,
  );
}

/** The template key a dry run must have used to count now: the current baseline plus main's pending. */
export async function currentTemplateKey(ws: Workspace, state: RepoState): Promise<string | null> {
  const baseline = await resolveBaseline(ws, state);
  return chainKeys(baseline).at(-1) ?? null;
}
