import type { Deps } from "../deps.js";
import { ForbiddenError, InputError, NotFoundError } from "../errors.js";
import { actorOf, requireRole, requireWorkerId } from "../identity.js";
import type { LeaseRow, Plan } from "../store/types.js";

/** The parts of `Deps` this module uses. */
type Uses = Pick<Deps, "clock" | "store" | "view">;

export interface ReleaseInput {
  leaseId?: string | undefined;
  version?: number | undefined;
  reason: string;
}

export interface ReleaseResult {
  lease: LeaseRow;
  /** False when the lease had already ended; nothing was changed. */
  released: boolean;
  by: string;
}

const MAX_REASON = 500;

/** Gives a lease back. A worker may release only its own; the head may revoke any, with a reason. */
export async function releaseSlot(ws: Uses, input: ReleaseInput): Promise<ReleaseResult> {
  const reason = input.reason.trim();
  if (!reason) throw new InputError("reason is empty", "Say in a few words why the slot is given back.");
  if (reason.length > MAX_REASON)
    throw new InputError(`reason is ${reason.length} characters; at most ${MAX_REASON}`);
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
    if (lease.endedAt !== null) return { result: { lease, released: false, by: caller } };
    const endReason = lease.worker === caller ? "released" : "revoked";
    return {
      end: [{ id: lease.id, reason: endReason, by: caller, note: reason }],
      events: [
        {
          actor: caller,
          role: identity.role,
          action: `lease.${endReason === "released" ? "release" : "revoke"}`,
          subject: lease.id,
          detail: { version: lease.version, worker: lease.worker, reason },
        },
      ],
      result: {
        lease: { ...lease, endedAt: now, endReason, endedBy: caller, endNote: reason },
        released: true,
        by: caller,
      },
    };
  });
}
