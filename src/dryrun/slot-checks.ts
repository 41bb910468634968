import { holdersOf, namesDiffer } from "../slots/holders.js";
import type { RepoState } from "../slots/sources.js";
import type { LeaseRow } from "../store/types.js";

/** One slot check for one file: what it checked, whether it passed, and what to do. */
export interface SlotCheck {
  check: "leased" | "not_on_main" | "not_in_production" | "above_applied";
  passed: boolean;
  message: string;
}

/**
 * The slot checks a dry run makes for a branch file: the version is leased by this worker, main
 * and production do not hold it (under another name, or already), and with strict ordering it is
 * above everything applied.
 */
export function slotChecks(
  file: { path: string; version: number | null; name: string | null },
  state: RepoState,
  open: LeaseRow[],
  worker: string,
): SlotCheck[] {
  const { version, name } = file;
  if (version === null || name === null) {
    return [
      {
        check: "leased",
        passed: false,
        message: `${file.path} is not named like a migration of layout ${state.config.migrations.layout}`,
      },
    ];
  }
  const holders = holdersOf(state, version);
  const checks: SlotCheck[] = [leaseCheck(version, name, open, worker)];
  const onMain = holders.filter((h) => h.source === "main");
  const mainClash = onMain.find((h) => namesDiffer(h.name, name));
  checks.push({
    check: "not_on_main",
    passed: onMain.length === 0,
    message: mainClash
      ? `main already has version ${version} as ${mainClash.file}: reserve_migration_slot again with "${name}" to move`
      : onMain.length > 0
        ? `version ${version} "${name}" is already on main: never edit a merged migration, add a new one`
        : `main does not have version ${version}`,
  });
  checks.push(productionCheck(state, version, name));
  if (state.config.migrations.ordering === "strict") {
    const prodMax = state.production.status === "checked" ? (state.production.history.maxVersion ?? 0) : 0;
    const applied = Math.max(prodMax, state.main.catalog.maxVersion ?? 0);
    checks.push({
      check: "above_applied",
      passed: version > applied,
      message:
        version > applied
          ? `above everything applied (${applied})`
          : `out of order: ${applied} is already on main or in production; reserve again to move`,
    });
  }
  return checks;
}

function leaseCheck(version: number, name: string, open: LeaseRow[], worker: string): SlotCheck {
  const lease = open.find((l) => l.version === version);
  if (lease && lease.worker === worker && lease.name === name) {
    return { check: "leased", passed: true, message: `leased to ${worker} (${lease.id})` };
  }
  if (lease) {
    const whose =
      lease.worker === worker ? `your lease names it "${lease.name}"` : `it is leased to ${lease.worker}`;
    return {
      check: "leased",
      passed: false,
      message: `version ${version}: ${whose}; reserve_migration_slot for "${name}"`,
    };
  }
  return {
    check: "leased",
    passed: false,
    message: `no lease holds version ${version}: call reserve_migration_slot("${name}") and use the file it names`,
  };
}

function productionCheck(state: RepoState, version: number, name: string): SlotCheck {
  const p = state.production;
  if (p.status !== "checked") {
    return {
      check: "not_in_production",
      passed: true,
      message: `production not checked (${p.status === "unreachable" ? p.error : p.reason}); the gate re-checks it`,
    };
  }
  const row = holdersOf(state, version).find((h) => h.source === "production");
  if (!row)
    return { check: "not_in_production", passed: true, message: `production has not applied ${version}` };
  const clash = namesDiffer(row.name, name);
  return {
    check: "not_in_production",
    passed: false,
    message: clash
      ? `production applied ${version} as "${row.name}": this file would crash-loop the app; reserve again to move`
      : `production already applied ${version} "${name}": never edit an applied migration, add a new one`,
  };
}
