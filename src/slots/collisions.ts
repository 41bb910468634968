import { workerOfBranch } from "../identity.js";
import type { RepoState } from "../repo/state.js";
import type { LeaseRow } from "../store/types.js";
import { type Holder, holdersOf, namesDiffer } from "./holders.js";
import { shortBranch } from "./rules.js";

/**
 * Repository-wide findings about versions: one version under several names (a collision), and
 * branch files no lease covers. Each branch counts once (its local and origin copies are one
 * branch), and each finding names who must act: the file without a lease moves, never the lease.
 */

/** Who must move a file off a version, and the sentence to tell them. */
export interface Blame {
  branch: string;
  worker: string | null;
  version: number;
  /** "cara: version 22 is bob's lease — reserve and rename". */
  message: string;
}

/** One version held under more than one name across main, production, branches and leases. */
export interface Collision {
  version: number;
  holders: { name: string | null; where: string }[];
  message: string;
  /** Whom to tell, when it can be said (empty: two unleased branches, nobody holds the right to it). */
  blame: Blame[];
}

export interface Unleased {
  version: number;
  name: string;
  /** One ref per branch: origin's copy when it is pushed, else the local branch. */
  refs: string[];
  /** The open lease that holds this version under another name, if any: that lease is rightful. */
  leasedTo: { worker: string; leaseId: string; name: string } | null;
  message: string;
}

/** A branch holding a version, once per branch: origin's copy when pushed, else the local one. */
interface BranchFile {
  branch: string;
  ref: string;
  name: string | null;
  file: string;
}

function branchFiles(state: RepoState, version: number): BranchFile[] {
  const byBranch = new Map<string, BranchFile>();
  for (const h of holdersOf(state, version)) {
    if (h.source !== "branch") continue;
    const branch = shortBranch(h.ref);
    const seen = byBranch.get(branch);
    if (!seen || (h.ref.startsWith("origin/") && seen.name === h.name && seen.file === h.file))
      byBranch.set(branch, { branch, ref: h.ref, name: h.name, file: h.file });
  }
  return [...byBranch.values()];
}

/** The holder whose name is rightful: production's, else main's, else an open lease's. */
function rightful(
  fixed: Holder[],
  lease: LeaseRow | undefined,
): { name: string; owner: string; lease?: LeaseRow } | null {
  const prod = fixed.find((h) => h.source === "production" && h.name !== null);
  if (prod?.name) return { name: prod.name, owner: `production's "${prod.name}"` };
  const main = fixed.find((h) => h.source === "main" && h.name !== null);
  if (main?.name)
    return { name: main.name, owner: `main's ${main.source === "main" ? main.file : main.name}` };
  if (lease) return { name: lease.name, owner: `${lease.worker}'s lease`, lease };
  return null;
}

/** "cara: version 22 is bob's lease — reserve and rename". */
function blameOf(file: BranchFile, version: number, owner: string): Blame {
  const worker = workerOfBranch(file.branch);
  return {
    branch: file.branch,
    worker,
    version,
    message: `${worker ?? file.branch}: version ${version} is ${owner} — reserve and rename (${file.branch} has ${file.file} without a lease)`,
  };
}

/** Versions that main, production, the branches and the open leases disagree on. */
export function findCollisions(state: RepoState, open: LeaseRow[]): Collision[] {
  const versions = new Set<number>(state.branchAdds.keys());
  for (const v of state.main.catalog.byVersion.keys()) versions.add(v);
  const out: Collision[] = [];
  for (const version of [...versions].sort((a, b) => a - b)) {
    const fixed = holdersOf(state, version).filter((h) => h.source !== "branch");
    const branches = branchFiles(state, version);
    // A lease counts as a name where a branch file stands on its version (alone against main or
    // production it is a conflicted lease, said with the lease).
    const lease = branches.length > 0 ? open.find((l) => l.version === version) : undefined;
    const named: { name: string | null; where: string; label: string }[] = [
      ...fixed.map((h) => ({ name: nameOf(h), where: h.source, label: describeFixed(h) })),
      ...branches.map((b) => ({
        name: b.name ?? `file:${b.file}`,
        where: b.ref,
        label: `${b.branch} has ${b.file}`,
      })),
      ...(lease
        ? [
            {
              name: lease.name,
              where: `lease:${lease.worker}`,
              label: `${lease.worker}'s lease "${lease.name}"`,
            },
          ]
        : []),
    ];
    const distinct = new Set(
      named.filter((n) => n.name !== null).map((n) => n.name!.toLowerCase().replace(/[_\s]+/g, " ")),
    );
    if (distinct.size < 2) continue;
    const right = rightful(fixed, lease);
    const blame = right
      ? branches
          .filter((b) => b.name === null || namesDiffer(b.name, right.name))
          .map((b) => blameOf(b, version, right.owner))
      : [];
    const verdict = collisionVerdict(fixed, lease, blame);
    out.push({
      version,
      holders: named
        .filter((n) => !n.where.startsWith("lease:"))
        .map((n) => ({ name: n.name?.startsWith("file:") ? null : n.name, where: n.where })),
      message: `version ${version} has ${distinct.size} names: ${named.map((n) => n.label).join("; ")}. ${verdict}`,
      blame,
    });
  }
  return out;
}

function nameOf(h: Holder): string | null {
  if (h.name !== null) return h.name;
  return h.source === "main" ? `file:${h.file}` : null;
}

function describeFixed(h: Holder): string {
  if (h.source === "main") return `main has ${h.file}`;
  if (h.source === "production")
    return `production's history has ${h.name === null ? "it (no name recorded)" : `"${h.name}"`}`;
  return "";
}

function collisionVerdict(fixed: Holder[], lease: LeaseRow | undefined, blame: Blame[]): string {
  const main = fixed.filter((h) => h.source === "main");
  const prod = fixed.find((h) => h.source === "production");
  if (prod && main.some((m) => namesDiffer(m.name, prod.name)))
    return "main and production disagree on this version: the next deploy will crash-loop. Rename main's file to a freshly reserved version, or repair production's history.";
  if (blame.length > 0) return `${blame.map((b) => b.message.split(" (")[0]).join("; ")}.`;
  if (lease && fixed.some((h) => namesDiffer(h.name, lease.name)))
    return `${lease.worker}'s lease is conflicted: ${lease.worker} must reserve again (it moves the lease) and rename the file.`;
  return "Only one of these branches can keep the version; the other must reserve a new one before merging.";
}

/** Branch files above main that no open lease covers: a worker created a migration without a slot. */
export function findUnleased(state: RepoState, open: LeaseRow[]): Unleased[] {
  const leased = new Set(open.map((l) => `${l.version}:${l.name}`));
  const mainMax = state.main.catalog.maxVersion ?? -1;
  const found = new Map<string, Unleased>();
  for (const version of state.branchAdds.keys()) {
    if (version <= mainMax) continue;
    const holder = open.find((l) => l.version === version);
    for (const b of branchFiles(state, version)) {
      const name = b.name ?? b.file;
      const key = `${version}:${name}`;
      if (leased.has(key)) continue;
      const leasedTo = holder ? { worker: holder.worker, leaseId: holder.id, name: holder.name } : null;
      const item = found.get(key) ?? { version, name, refs: [], leasedTo, message: "" };
      item.refs.push(b.ref);
      found.set(key, item);
    }
  }
  for (const item of found.values()) {
    const who = item.refs.map((r) => workerOfBranch(r) ?? shortBranch(r));
    item.message = item.leasedTo
      ? `${who.join(", ")}: version ${item.version} is ${item.leasedTo.worker}'s lease — reserve and rename (${item.refs.join(", ")})`
      : `${who.join(", ")}: ${item.version}_${item.name} has no lease — reserve a slot and rename (${item.refs.join(", ")})`;
  }
  return [...found.values()].sort((a, b) => a.version - b.version);
}
