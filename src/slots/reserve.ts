import { randomUUID } from "node:crypto";
import { join, posix } from "node:path";
import { InputError } from "../errors.js";
import type { FetchOutcome } from "../git/repo.js";
import { actorOf, requireRole, requireWorkerId } from "../identity.js";
import { fileNamesFor, timestampVersion } from "../migrations/layout.js";
import { gatherRepoState, type RepoState, type RepoStateDeps } from "../repo/state.js";
import type { EventInput, LeaseEnd, LeaseRow, Plan, Snapshot } from "../store/types.js";
import { heldByGit, holdersOf, namesDiffer, summarizeTaken, type TakenSummary } from "./holders.js";
import { validateCount, validateMigrationName } from "./names.js";
import { type ProductionReport, productionReport, sourceWarnings } from "./report.js";
import { appliedMax, mainClash, outOfOrder, productionClash, type SlotSubject } from "./rules.js";

export interface ReserveInput {
  name: string;
  count?: number | undefined;
}

export interface ReservedLease {
  leaseId: string;
  version: number;
  name: string;
  /** Paths relative to the repository root. */
  files: string[];
  /** The same files in this worktree: create exactly these. */
  paths: string[];
  expiresAt: number;
}

export interface Move {
  fromLease: string;
  fromVersion: number;
  toLease: string;
  toVersion: number;
  reason: string;
  rename: { from: string; to: string }[];
}

export interface ReserveResult {
  worker: string;
  branch: string | null;
  /** True when an existing lease of this worker for this name was returned (and renewed). */
  idempotent: boolean;
  leases: ReservedLease[];
  moved: Move[];
  expired: number;
  taken: TakenSummary;
  production: ProductionReport;
  fetch: FetchOutcome;
  branchesScanned: number;
  warnings: string[];
}

/**
 * Leases the next free version(s) for a named migration: `max(taken) + 1`, where main, every
 * branch, production's history and open leases all count. Decided and written in one state
 * transaction; calling again for the same worker and name answers the same lease.
 */
export async function reserveSlot(ws: RepoStateDeps, input: ReserveInput): Promise<ReserveResult> {
  const name = validateMigrationName(input.name);
  const count = validateCount(input.count);
  const state = await gatherRepoState(ws, { fetch: true });
  const { identity } = state.view;
  requireRole(identity, ["worker"], "reserve migration slots");
  const worker = requireWorkerId(identity);
  const now = ws.clock.now();
  const decided = await state.store.transact(now, [], (snapshot) =>
    decideReservation(snapshot, {
      state,
      worker,
      name,
      count: input.count === undefined ? null : count,
      now,
    }),
  );
  return {
    worker,
    branch: identity.branch,
    ...decided,
    production: productionReport(state),
    fetch: state.fetch,
    branchesScanned: state.branches.length,
    warnings: sourceWarnings(state),
  };
}

interface Request {
  state: RepoState;
  worker: string;
  name: string;
  /** Null when the caller did not say: take whatever the existing reservation has. */
  count: number | null;
  now: number;
}

type Decided = Pick<ReserveResult, "idempotent" | "leases" | "moved" | "expired" | "taken">;

function decideReservation(snapshot: Snapshot, req: Request): Plan<Decided> {
  const { state, worker, now } = req;
  const ttl = state.config.leases.ttl_hours * 3_600_000;
  const actor = { actor: actorOf(state.view.identity), role: state.view.identity.role };
  const expired = snapshot.open.filter((l) => l.expiresAt <= now && !heldByGit(state, l));
  const open = snapshot.open.filter((l) => !expired.includes(l));
  const end: LeaseEnd[] = expired.map((l) => ({ id: l.id, reason: "expired", by: "ttl", note: null }));
  const events: EventInput[] = expired.map((l) => ({ ...actor, action: "lease.expire", subject: l.id }));
  const mine = open
    .filter((l) => l.worker === worker && l.requestName === req.name)
    .sort((a, b) => a.seq - b.seq);

  if (mine.length > 0 && req.count !== null && req.count !== mine.length) {
    throw new InputError(
      `"${req.name}" already holds ${mine.length} version(s) for ${worker}; this call asked for ${req.count}`,
      "Call again without count to get the existing lease(s), or release them first with release_slot.",
    );
  }
  const reasons = mine.map((l) => moveReason(state, l));
  if (mine.length > 0 && reasons.every((r) => r === null)) {
    const expiresAt = now + ttl;
    return {
      end,
      renew: mine.map((l) => ({ id: l.id, expiresAt })),
      events: [
        ...events,
        ...mine.map((l) => ({ ...actor, action: "lease.renew", subject: l.id, detail: { expiresAt } })),
      ],
      result: {
        idempotent: true,
        leases: mine.map((l) => toReserved(state, { ...l, expiresAt })),
        moved: [],
        expired: expired.length,
        taken: summarizeTaken(state, open),
      },
    };
  }

  const taken = summarizeTaken(state, open);
  const size = mine.length || (req.count ?? 1);
  const inserts = allocate(state, req, taken.max, size, ttl);
  const moved: Move[] = mine.map((old, i) => ({
    fromLease: old.id,
    fromVersion: old.version,
    toLease: inserts[i]!.id,
    toVersion: inserts[i]!.version,
    reason: reasons[i] ?? "moved with the rest of its reservation",
    rename: old.files.map((from, j) => ({ from, to: inserts[i]!.files[j] ?? from })),
  }));
  for (const m of moved) {
    end.push({ id: m.fromLease, reason: "moved", by: worker, note: m.reason, movedTo: m.toLease });
    events.push({
      ...actor,
      action: "lease.move",
      subject: m.fromLease,
      detail: { to: m.toLease, reason: m.reason },
    });
  }
  for (const l of inserts) {
    events.push({
      ...actor,
      action: "lease.reserve",
      subject: l.id,
      detail: { version: l.version, name: l.name, branch: l.branch },
    });
  }
  return {
    end,
    insert: inserts,
    events,
    result: {
      idempotent: false,
      leases: inserts.map((l) => toReserved(state, l)),
      moved,
      expired: expired.length,
      taken,
    },
  };
}

function allocate(state: RepoState, req: Request, max: number, size: number, ttl: number): LeaseRow[] {
  const { migrations } = state.config;
  const first = migrations.layout === "timestamp" ? Math.max(timestampVersion(req.now), max + 1) : max + 1;
  const last = first + size - 1;
  const width = migrations.width;
  if (!Number.isSafeInteger(last) || (width !== undefined && String(last).length > width)) {
    throw new InputError(
      `no version is left: the next would be ${last}, beyond ${width === undefined ? "2^53-1" : `migrations.width (${width} digits)`}`,
      "Ask the head: the version space of this layout is exhausted (or a file holds an absurd version).",
    );
  }
  const style = state.main.catalog.style;
  return Array.from({ length: size }, (_, i) => {
    const version = first + i;
    const name = size === 1 ? req.name : `${req.name}_${i + 1}`;
    return {
      id: newLeaseId(),
      version,
      name,
      requestName: req.name,
      seq: i + 1,
      files: fileNamesFor(version, name, migrations, style).map((f) => posix.join(migrations.dir, f)),
      worker: req.worker,
      branch: state.view.identity.branch,
      createdAt: req.now,
      expiresAt: req.now + ttl,
      endedAt: null,
      endReason: null,
      endedBy: null,
      endNote: null,
      prodChecked: state.production.status === "checked",
      movedTo: null,
    };
  });
}

/** Why an existing lease can no longer be used (the slot rules say so), or null when it still can. */
function moveReason(state: RepoState, lease: LeaseRow): string | null {
  const s: SlotSubject = {
    path: lease.files[0] ?? lease.name,
    version: lease.version,
    name: lease.name,
    oid: null,
    branch: lease.branch,
    worker: lease.worker,
  };
  const clash = [mainClash(state, s), productionClash(state, s)].find(
    (v) => v && !v.sameName && !v.unverified,
  );
  if (clash) return `version ${lease.version} is taken: ${clash.detail}`;
  const merged = holdersOf(state, lease.version).some(
    (h) => h.source === "main" && !namesDiffer(h.name, lease.name),
  );
  if (merged) return null;
  const late = outOfOrder(state, s);
  return late && appliedMax(state) > lease.version ? late.detail : null;
}

/** A file with this lease's version and name is on main or a branch: the TTL does not end it. */
function toReserved(state: RepoState, l: LeaseRow): ReservedLease {
  return {
    leaseId: l.id,
    version: l.version,
    name: l.name,
    files: l.files,
    paths: l.files.map((f) => join(state.view.repo.root, f)),
    expiresAt: l.expiresAt,
  };
}

function newLeaseId(): string {
  return `L${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
