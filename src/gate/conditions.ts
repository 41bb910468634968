import { posix } from "node:path";
import { remoteOf } from "../repo/state.js";
import { ownLease, type SlotSubject, shortBranch, slotViolations } from "../slots/rules.js";
import { type Condition, fail, make, pass } from "./condition.js";
import { dryRunPassed, suitePassed } from "./evidence.js";
import type { EvidenceFacts, GateFacts } from "./facts.js";
import { type AddedMigration, SYMLINK_MODE } from "./migrations.js";

export { CONDITION_KINDS, type Condition, type ConditionKind } from "./condition.js";

/**
 * Every condition that applies in the facts' scope, in the order their fixes must be done. Each is a
 * pure function of the facts (no I/O); the ones on the worker's records are in `evidence.ts`.
 */
export function conditionsOf(f: GateFacts): Condition[] {
  const out: Condition[] = [];
  if (f.scope === "gate") out.push(mainConfig(f));
  const subjects = f.changes.added.map((file) => subjectOf(f, file));
  f.changes.added.forEach((file, i) => {
    out.push(...readable(file));
    const subject = subjects[i];
    if (!subject) return;
    if (f.scope === "gate" && subject.name !== null) out.push(leaseHeld(f, subject));
    out.push(...collisions(f, subject, subjects));
  });
  out.push(noEdits(f));
  if (f.records) {
    if (f.changes.added.length > 0) out.push(dryRunPassed(f, f.records));
    out.push(...workingCopies(f.records));
    out.push(cleanTree(f));
    out.push(suitePassed(f, f.records));
    out.push(pushed(f));
  }
  return out;
}

/** The remote branch is at HEAD: what the head merges and CI checks is what was judged. */
function pushed(f: GateFacts): Condition {
  const { branch, head } = f.target;
  const remote = remoteOf(f.state);
  if (!branch || !remote)
    return make({
      kind: "pushed",
      file: null,
      passed: null,
      detail: "no remote to push to: main_branch is a local branch and git.remote is not set",
    });
  const name = `${remote}/${shortBranch(branch)}`;
  const at = f.state.view.refs.refs.get(name);
  const fix = `git push -u ${remote} ${shortBranch(branch)} (then call gate_status again).`;
  // A remote-tracking ref can be written by hand: when the fetch that would correct it failed, the
  // push cannot be confirmed (fails closed, like an unreachable production).
  if (f.state.fetch.status === "failed")
    return fail(
      "pushed",
      null,
      `cannot confirm the push: git fetch from ${remote} failed (${f.state.fetch.error})`,
      `Make ${remote} reachable, then call gate_status again.`,
    );
  if (at === head) return pass("pushed", null, `${name} is at HEAD ${head.slice(0, 10)}`);
  if (!at) return fail("pushed", null, `not pushed: ${remote} has no branch ${shortBranch(branch)}`, fix);
  return fail("pushed", null, `${name} is at ${at.slice(0, 10)}, not at HEAD ${head.slice(0, 10)}`, fix);
}

/**
 * An uncommitted migration file whose content no dry run has seen: the worker learns it now, not
 * one commit later (the clean-tree condition says only that something is uncommitted).
 */
function workingCopies(r: EvidenceFacts): Condition[] {
  return r.working
    .filter((w) => w.sha256 !== null && w.sha256 !== w.lastDryRun)
    .map((w) =>
      fail(
        "dry_run",
        w.path,
        w.lastDryRun === null
          ? "uncommitted, and never dry-run"
          : "its uncommitted content differs from its last dry run",
        "Call dry_run_migration (no files argument) on the working copy, then commit.",
      ),
    );
}

function mainConfig(f: GateFacts): Condition {
  if (f.trust.fromMain) return pass("main_config", null, `config from ${f.trust.source}`);
  return fail(
    "main_config",
    null,
    `the config was ${f.trust.reason}: a completion cannot be reported or verified on it`,
    "Drop --config and MAI_GATE_MAIN so mai-gate reads mai-gate.yaml from main; change the config on main.",
  );
}

/** The rules' view of a new file; null when it holds no version at all (no leading number). */
function subjectOf(f: GateFacts, file: AddedMigration): SlotSubject | null {
  const version = file.parsed?.version ?? file.unparsed?.version ?? null;
  if (version === null) return null;
  return {
    path: file.path,
    version,
    name: file.parsed && file.mode !== SYMLINK_MODE ? file.parsed.name : null,
    oid: file.oid,
    branch: f.target.branch ? shortBranch(f.target.branch) : null,
    worker: f.target.worker,
  };
}

function readable(file: AddedMigration): Condition[] {
  if (file.mode === SYMLINK_MODE) {
    return [
      fail(
        "unparseable",
        file.path,
        "a symlink, not a migration file: what runs is whatever it points to",
        "Replace the symlink with the migration's own SQL in a regular file.",
      ),
    ];
  }
  if (!file.unparsed) return [];
  const held =
    file.unparsed.version === null ? "" : `; its number ${file.unparsed.version} still counts as taken`;
  return [
    fail(
      "unparseable",
      file.path,
      `the layout cannot read the name (${file.unparsed.reason})${held}, and the app's migrator may run it anyway`,
      `Rename it to the file reserve_migration_slot answers (layout: ${posix.basename(file.path)} does not fit).`,
    ),
  ];
}

function leaseHeld(f: GateFacts, s: SlotSubject): Condition {
  const lease = ownLease(f.leases, s);
  if (lease) return pass("lease", s.path, `lease ${lease.id} of ${s.worker}`, lease.id);
  const other = f.leases.find((l) => l.version === s.version);
  const why = !other
    ? `no lease holds version ${s.version}`
    : other.worker === s.worker
      ? `your lease of version ${s.version} names it "${other.name}", not "${s.name}"`
      : `version ${s.version} is leased to ${other.worker} as "${other.name}"`;
  return fail(
    "lease",
    s.path,
    why,
    `Call reserve_migration_slot("${s.name}") and rename the file to the name it answers.`,
  );
}

function collisions(f: GateFacts, s: SlotSubject, all: (SlotSubject | null)[]): Condition[] {
  const siblings = all.filter((x): x is SlotSubject => x !== null);
  const found = slotViolations(f.state, f.leases, s, { now: f.now, siblings });
  if (found.length === 0) {
    const p = f.state.production;
    const note = p.status === "not_configured" ? " (production not configured)" : "";
    return [
      pass(
        "collision",
        s.path,
        `version ${s.version} is free on main, in production, on other branches and in leases${note}`,
      ),
    ];
  }
  return found.map((v) => fail("collision", s.path, v.detail, v.fix, v.rule));
}

function noEdits(f: GateFacts): Condition {
  const edited = f.changes.edited;
  if (edited.length === 0)
    return pass("no_edits", null, "no migration main already has was edited, renamed, retyped or deleted");
  const list = edited.map((e) => `${e.path} ${e.change.replace("_", " ")}${e.to ? ` to ${e.to}` : ""}`);
  return fail(
    "no_edits",
    null,
    list.join("; "),
    `Restore them (git checkout ${f.state.main.ref} -- <path>) and put further changes in a new migration.`,
  );
}

function cleanTree(f: GateFacts): Condition {
  const t = f.target;
  if (t.dirty === null)
    return make({
      kind: "clean_tree",
      file: null,
      passed: null,
      detail: "judged from the branch's ref: the worktree is not visible",
    });
  if (!t.dirty) return pass("clean_tree", null, "no uncommitted changes, and no file hidden from git status");
  const parts: string[] = [];
  if (t.dirtyPaths.length > 0) parts.push(`uncommitted changes: ${shortList(t.dirtyPaths)}`);
  if (t.hidden.length > 0)
    parts.push(
      `hidden from git status by index flags: ${shortList(t.hidden.map((h) => `${h.path} (${h.flag})`))}`,
    );
  const fixes = ["Commit (or remove) the changes"];
  if (t.hidden.length > 0)
    fixes.push("clear the flags (git update-index --no-skip-worktree --no-assume-unchanged <path>)");
  return fail(
    "clean_tree",
    null,
    parts.join("; "),
    `${fixes.join(", and ")}; then run the suite again for the new tree.`,
  );
}

function shortList(items: string[]): string {
  return items.slice(0, 5).join(", ") + (items.length > 5 ? `, … (${items.length} in all)` : "");
}
