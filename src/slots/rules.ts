import type { RepoState } from "../repo/state.js";
import type { LeaseRow } from "../store/types.js";
import { describeHolder, fileClashes, type Holder, holdersOf, namesDiffer } from "./holders.js";

/**
 * The slot rules: whether a migration file may hold its version. One home for every path that asks
 * (reservation, the dry run's slot checks, the gate, `mai-gate check`). Pure functions of the
 * repository state and the open leases; no I/O.
 */
export type SlotRule = "main" | "production" | "out_of_order" | "branch" | "lease" | "duplicate";

export interface SlotViolation {
  rule: SlotRule;
  detail: string;
  fix: string;
  /** The rule could not be checked (production unreachable): the gate fails closed on it. */
  unverified?: boolean;
  /** Main or production holds the version under the same name: it is there already, not taken by another. */
  sameName?: boolean;
}

/** A migration file a branch adds, as the rules see it. */
export interface SlotSubject {
  path: string;
  version: number;
  /** Null when the layout cannot read the file's name: it clashes with every other holder. */
  name: string | null;
  oid: string | null;
  /** The branch the file is on (short name, no `origin/`): its own copies are not clashes. */
  branch: string | null;
  /** The branch's worker, when known (`mai/<worker>/<task>`). */
  worker: string | null;
}

/** A branch name without its remote prefix: `origin/mai/ann/x` and `mai/ann/x` are one branch. */
export function shortBranch(ref: string): string {
  return ref.replace(/^(?:refs\/remotes\/|refs\/heads\/)?origin\//, "").replace(/^refs\/heads\//, "");
}

const moveFix = (s: { name: string | null; path: string }) =>
  s.name === null
    ? `Rename ${s.path} to the file reserve_migration_slot answers.`
    : `Call reserve_migration_slot("${s.name}") again to move to a free version, then rename the file.`;

/** Main holds the version under another name (or an unreadable file), or the same name with other content. */
export function mainClash(state: RepoState, s: SlotSubject): SlotViolation | null {
  const main = holdersOf(state, s.version).filter((h) => h.source === "main");
  const clash = main.find((h) => fileClashes(s, h));
  if (clash) {
    const allowed = state.config.migrations.duplicates === "allow";
    const detail = allowed
      ? `new duplicate: main already has version ${s.version} as ${fileOf(clash)}; a database already at ${s.version} skips a file that sorts lower`
      : `main already has version ${s.version} as ${fileOf(clash)}`;
    return { rule: "main", detail, fix: moveFix(s) };
  }
  const same = main[0];
  if (same && s.oid !== null && fileOid(same) !== s.oid) {
    return {
      rule: "main",
      detail: `main already has ${fileOf(same)} with other content`,
      fix: "Drop your copy; put further changes in a new migration.",
      sameName: true,
    };
  }
  return null;
}

/** The file is main's own (same version, name and content): merged already, nothing more to check. */
export function onMainAlready(state: RepoState, s: SlotSubject): boolean {
  return holdersOf(state, s.version).some(
    (h) => h.source === "main" && !fileClashes(s, h) && s.oid !== null && fileOid(h) === s.oid,
  );
}

/** Production applied the version (under any name), or could not be read. */
export function productionClash(state: RepoState, s: SlotSubject): SlotViolation | null {
  const p = state.production;
  if (p.status === "unreachable") {
    return {
      rule: "production",
      detail: `production could not be checked: ${p.error}`,
      fix: "Retry when production is reachable (mai-gate doctor says what is wrong).",
      unverified: true,
    };
  }
  const rows = holdersOf(state, s.version).filter((h) => h.source === "production");
  if (rows.length === 0) return null;
  // Several rows (a migrator that allows duplicates): the file is fine only if one has its name.
  const row = rows.find((r) => s.name !== null && !namesDiffer(r.name, s.name)) ?? rows[0]!;
  if (p.status === "checked" && row.name === null && s.name !== null && p.history.format === "golang-migrate")
    return {
      rule: "production",
      detail: `production's golang-migrate history is at ${p.history.maxVersion}: version ${s.version} counts as applied and would never run`,
      fix: moveFix(s),
    };
  if (s.name === null || namesDiffer(row.name, s.name))
    return {
      rule: "production",
      detail: `production applied ${s.version} as "${row.name ?? "?"}": this file would crash-loop the app`,
      fix: moveFix(s),
    };
  return {
    rule: "production",
    detail: `production already applied ${s.version}: an applied migration never runs again`,
    fix: moveFix(s),
    sameName: true,
  };
}

/** The largest version already applied or on main: with strict ordering, new files must exceed it. */
export function appliedMax(state: RepoState): number {
  const p = state.production;
  return Math.max(state.main.catalog.maxTaken ?? 0, p.status === "checked" ? (p.history.maxVersion ?? 0) : 0);
}

/** With `ordering: strict`, a version at or below what main or production has is skipped or refused. */
export function outOfOrder(state: RepoState, s: SlotSubject): SlotViolation | null {
  if (state.config.migrations.ordering !== "strict") return null;
  const applied = appliedMax(state);
  if (s.version > applied) return null;
  return {
    rule: "out_of_order",
    detail: `out of order: main or production already has ${applied}, and the migrator skips or refuses a lower version`,
    fix: moveFix(s),
  };
}

/** Another branch holds the version under another name. The file without a lease is the one to move. */
export function branchClash(state: RepoState, leases: LeaseRow[], s: SlotSubject): SlotViolation | null {
  const others = new Map<string, Holder & { source: "branch" }>();
  for (const h of holdersOf(state, s.version)) {
    if (h.source !== "branch" || !fileClashes(s, h)) continue;
    const short = shortBranch(h.ref);
    if (short !== s.branch && !others.has(short)) others.set(short, h);
  }
  if (others.size === 0) return null;
  const mine = s.name !== null && leases.some((l) => isLease(l, s.version, s.name!, s.worker));
  const leasedTo = (h: Holder & { source: "branch" }) =>
    h.name !== null && leases.some((l) => l.version === s.version && l.name === h.name);
  const blamed = [...others.entries()].filter(([, h]) => !mine || leasedTo(h));
  if (blamed.length === 0) return null;
  const list = blamed.map(([short, h]) => `${short} (${h.file})`).join(", ");
  const rightful = mine
    ? undefined
    : leases.find((l) => l.version === s.version && [...others.values()].some((h) => h.name === l.name));
  const detail = rightful
    ? `version ${s.version} is ${rightful.worker}'s lease (${list}); this file has no lease, so it is the one to move`
    : `version ${s.version} is also on ${list}: only one of them can merge, the second would crash-loop the app`;
  return {
    rule: "branch",
    detail,
    fix: mine ? "Your lease holds this version; tell the head so the other branch moves." : moveFix(s),
  };
}

/** An open lease of another worker holds the version. */
export function leaseClash(leases: LeaseRow[], s: SlotSubject, now: number): SlotViolation | null {
  const lease = leases.find(
    (l) =>
      l.version === s.version &&
      l.expiresAt > now &&
      (s.worker !== null ? l.worker !== s.worker : s.name === null || l.name !== s.name),
  );
  if (!lease) return null;
  return {
    rule: "lease",
    detail: `version ${s.version} is leased to ${lease.worker} as "${lease.name}" (${lease.id})`,
    fix: moveFix(s),
  };
}

/** Two files of one branch with one version. */
export function siblingClash(s: SlotSubject, siblings: SlotSubject[]): SlotViolation | null {
  const twin = siblings.find((o) => o.path !== s.path && o.version === s.version);
  if (!twin) return null;
  return {
    rule: "duplicate",
    detail: `this branch adds two files with version ${s.version}: ${s.path} and ${twin.path}`,
    fix: "Keep one; reserve a new version for the other and rename it.",
  };
}

/**
 * Every rule a branch's new migration file breaks. A file main already has with the same content
 * is main's own: only the main rule applies to it.
 */
export function slotViolations(
  state: RepoState,
  leases: LeaseRow[],
  s: SlotSubject,
  options: { now: number; siblings?: SlotSubject[] },
): SlotViolation[] {
  const main = mainClash(state, s);
  if (!main && onMainAlready(state, s)) return [];
  const found = [
    main,
    productionClash(state, s),
    outOfOrder(state, s),
    branchClash(state, leases, s),
    leaseClash(leases, s, options.now),
    siblingClash(s, options.siblings ?? []),
  ];
  return found.filter((v): v is SlotViolation => v !== null);
}

/** The worker's own open lease of exactly this version and name. */
export function ownLease(leases: LeaseRow[], s: SlotSubject): LeaseRow | null {
  if (s.name === null || s.worker === null) return null;
  return leases.find((l) => isLease(l, s.version, s.name!, s.worker)) ?? null;
}

function isLease(l: LeaseRow, version: number, name: string, worker: string | null): boolean {
  return l.version === version && l.name === name && (worker === null || l.worker === worker);
}

function fileOf(h: Holder): string {
  return h.source === "main" || h.source === "branch" ? h.file : describeHolder(h);
}

function fileOid(h: Holder): string | null {
  return h.source === "main" || h.source === "branch" ? h.oid : null;
}
