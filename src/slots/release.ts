import { ForbiddenError, InputError, NotFoundError } from "../errors.js";
import { actorOf, type Role, requireRole, requireWorkerId } from "../identity.js";
import { gatherRepoState, type RepoStateDeps } from "../repo/state.js";
import type { LeaseEnd, LeaseRow, Plan } from "../store/types.js";
import { heldByGit } from "./holders.js";

export interface ReleaseInput {
  leaseId?: string | undefined;
  version?: number | undefined;
  reason: string;
}

export interface ReleaseResult {
  lease: LeaseRow;
  /** False when the lease had already ended (or expired: past its TTL, on no branch); nothing was changed. */
  released: boolean;
  by: string;
  /** The caller's role: the answer's next step is worded for it. */
  role: Role;
}

const MAX_REASON = 500;

function checkedReason(text: string): string {
  const reason = text.trim();
  if (!reason) throw new InputError("reason is empty", "Say in a few words why the slot is given back.");
  if (reason.length > MAX_REASON)
    throw new InputError(`reason is ${reason.length} characters; at most ${MAX_REASON}`);
  return reason;
}

/**
 * Open leases past their TTL whose file is on no branch: expired already, so releasing one changes
 * nothing. Git is read only when such a lease is among `candidates`.
 */
async function expiredOf(ws: RepoStateDeps, candidates: LeaseRow[], now: number): Promise<Set<string>> {
  const lapsed = candidates.filter((l) => l.endedAt === null && l.expiresAt <= now);
  if (lapsed.length === 0) return new Set();
  const state = await gatherRepoState(ws, { fetch: false });
  return new Set(lapsed.filter((l) => !heldByGit(state, l)).map((l) => l.id));
}

/** Gives a lease back. A worker may release only its own; the head may revoke any, with a reason. */
export async function releaseSlot(ws: RepoStateDeps, input: ReleaseInput): Promise<ReleaseResult> {
  const reason = checkedReason(input.reason);
  if ((input.leaseId === undefined) === (input.version === undefined)) {
    throw new InputError(
      "give exactly one of lease_id or version",
      "list_slot_leases shows both for every lease.",
    );
  }
  const view = await ws.view();
  const { identity } = view;
  requireRole(identity, ["worker", "head"], "release slot leases");
  const caller = identity.role === "head" ? actorOf(identity) : requireWorkerId(identity);
  const store = await ws.store(view.loaded);
  const now = ws.clock.now();
  const open = await store.listLeases({ includeEnded: false, limit: 10_000 });
  const expired = await expiredOf(
    ws,
    open.filter((l) => l.id === input.leaseId || l.version === input.version),
    now,
  );
  const ids = input.leaseId ? [input.leaseId] : [];
  return store.transact(now, ids, (snapshot): Plan<ReleaseResult> => {
    const lease = input.leaseId
      ? snapshot.requested.get(input.leaseId)
      : snapshot.open.find((l) => l.version === input.version);
    if (!lease) {
      throw new NotFoundError(
        input.leaseId ? `no lease ${input.leaseId}` : `no open lease holds version ${input.version}`,
        "list_slot_leases shows the leases there are.",
      );
    }
    if (identity.role !== "head" && lease.worker !== caller) {
      throw new ForbiddenError(
        `lease ${lease.id} (version ${lease.version}) belongs to ${lease.worker}, not to ${caller}`,
        "A worker releases only its own leases; ask the head to revoke another worker's lease.",
      );
    }
    const role = identity.role;
    if (lease.endedAt !== null) return { result: { lease, released: false, by: caller, role } };
    if (expired.has(lease.id))
      return { result: { lease: { ...lease, endReason: "expired" }, released: false, by: caller, role } };
    const endReason = lease.worker === caller ? "released" : "revoked";
    return {
      end: [{ id: lease.id, reason: endReason, by: caller, note: reason }],
      events: [
        {
          actor: caller,
          role,
          action: `lease.${endReason === "released" ? "release" : "revoke"}`,
          subject: lease.id,
          detail: { version: lease.version, worker: lease.worker, reason },
        },
      ],
      result: {
        lease: { ...lease, endedAt: now, endReason, endedBy: caller, endNote: reason },
        released: true,
        by: caller,
        role,
      },
    };
  });
}

export interface RevokeResult {
  worker: string;
  by: string;
  reason: string;
  /** The leases this call revoked. */
  revoked: LeaseRow[];
  /** Open leases left as they were: expired already (past their TTL, on no branch). */
  expired: LeaseRow[];
}

/** The head revokes every open lease of one worker in one transaction, with one reason. */
export async function revokeWorkerLeases(
  ws: RepoStateDeps,
  input: { worker: string; reason: string },
): Promise<RevokeResult> {
  const reason = checkedReason(input.reason);
  const view = await ws.view();
  requireRole(view.identity, ["head"], "revoke another worker's leases");
  const by = actorOf(view.identity);
  const store = await ws.store(view.loaded);
  const now = ws.clock.now();
  const theirs = await store.listLeases({ includeEnded: false, worker: input.worker, limit: 10_000 });
  const expired = await expiredOf(ws, theirs, now);
  return store.transact(now, [], (snapshot): Plan<RevokeResult> => {
    const open = snapshot.open.filter((l) => l.worker === input.worker);
    const revoked = open.filter((l) => !expired.has(l.id));
    const end: LeaseEnd[] = revoked.map((l) => ({ id: l.id, reason: "revoked", by, note: reason }));
    return {
      end,
      events: revoked.map((l) => ({
        actor: by,
        role: view.identity.role,
        action: "lease.revoke",
        subject: l.id,
        detail: { version: l.version, worker: l.worker, reason, all_of_worker: true },
      })),
      result: {
        worker: input.worker,
        by,
        reason,
        revoked: revoked.map((l) => ({
          ...l,
          endedAt: now,
          endReason: "revoked",
          endedBy: by,
          endNote: reason,
        })),
        expired: open.filter((l) => expired.has(l.id)),
      },
    };
  });
}
