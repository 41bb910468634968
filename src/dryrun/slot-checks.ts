import { workerOfBranch } from "../identity.js";
import type { RepoState } from "../repo/state.js";
import { ownLease, type SlotSubject, shortBranch, slotViolations } from "../slots/rules.js";
import type { LeaseRow } from "../store/types.js";

/** One slot check for one file: which rule, whether it passed, and what to do. */
export interface SlotCheck {
  check: "leased" | "name" | "main" | "production" | "out_of_order" | "branch" | "lease" | "duplicate";
  passed: boolean;
  message: string;
}

/**
 * The slot checks a dry run shows for a branch file: the worker's lease, and every slot rule (the
 * same rules the gate applies, from `slots/rules.ts`). Production that cannot be read is said, not
 * failed: the dry run is a preview, the gate fails closed on it.
 */
export function slotChecks(
  file: { path: string; version: number | null; name: string | null; oid: string | null },
  all: { path: string; version: number | null; name: string | null; oid: string | null }[],
  state: RepoState,
  open: LeaseRow[],
  worker: string,
  now: number,
): SlotCheck[] {
  const subject = toSubject(file, state, worker);
  if (!subject) {
    return [
      {
        check: "name",
        passed: false,
        message: `${file.path} is not named like a migration of layout ${state.config.migrations.layout}`,
      },
    ];
  }
  const siblings = all.map((f) => toSubject(f, state, worker)).filter((s): s is SlotSubject => s !== null);
  const checks: SlotCheck[] = [leaseCheck(subject, open)];
  if (subject.name === null)
    checks.push({ check: "name", passed: false, message: `${file.path}: the layout cannot read this name` });
  const violations = slotViolations(state, open, subject, { now, siblings });
  for (const v of violations) {
    checks.push({
      check: v.rule,
      passed: v.unverified === true,
      message: v.unverified ? `${v.detail}; the gate re-checks it` : `${v.detail}. ${v.fix}`,
    });
  }
  if (!violations.some((v) => v.rule === "main"))
    checks.push({
      check: "main",
      passed: true,
      message: `main does not hold version ${subject.version} under another name`,
    });
  if (!violations.some((v) => v.rule === "production"))
    checks.push({ check: "production", passed: true, message: productionNote(state, subject.version) });
  return checks;
}

function toSubject(
  file: { path: string; version: number | null; name: string | null; oid: string | null },
  state: RepoState,
  worker: string,
): SlotSubject | null {
  if (file.version === null) return null;
  const branch = state.view.identity.branch;
  return {
    path: file.path,
    version: file.version,
    name: file.name,
    oid: file.oid,
    branch: branch ? shortBranch(branch) : null,
    worker: branch ? (workerOfBranch(branch) ?? worker) : worker,
  };
}

function leaseCheck(s: SlotSubject, open: LeaseRow[]): SlotCheck {
  const lease = ownLease(open, s);
  if (lease) return { check: "leased", passed: true, message: `leased to ${s.worker} (${lease.id})` };
  const other = open.find((l) => l.version === s.version);
  if (other) {
    const whose =
      other.worker === s.worker ? `your lease names it "${other.name}"` : `it is leased to ${other.worker}`;
    return {
      check: "leased",
      passed: false,
      message: `version ${s.version}: ${whose}; reserve_migration_slot for "${s.name ?? "your migration"}"`,
    };
  }
  return {
    check: "leased",
    passed: false,
    message: `no lease holds version ${s.version}: call reserve_migration_slot("${s.name ?? "your_migration"}") and use the file it names`,
  };
}

function productionNote(state: RepoState, version: number): string {
  const p = state.production;
  if (p.status === "not_configured") return `production not checked (${p.reason})`;
  return `production has not applied ${version}`;
}
