import { reviewOutput, reviewText } from "../../tools/review-output.js";
import type { GateDeps } from "../gate/service.js";
import { reviewWorkers } from "../review/service.js";
import { revokeWorkerLeases } from "../slots/release.js";
import { json, out, UsageError } from "./output.js";

/** `mai-gate review [--worker W]`: the head's review of every worker (MAI_ROLE=head). */
export async function reviewCommand(
  ws: GateDeps,
  options: { worker?: string; json: boolean },
): Promise<number> {
  const review = await reviewWorkers(ws, { worker: options.worker });
  if (options.json) json(reviewOutput(review));
  else out(reviewText(review));
  return 0;
}

/** `mai-gate revoke WORKER --reason TEXT`: every open lease of one worker (MAI_ROLE=head). */
export async function revokeCommand(
  ws: GateDeps,
  worker: string | undefined,
  reason: string | undefined,
  options: { json: boolean },
): Promise<number> {
  if (!worker || !reason)
    throw new UsageError(
      "revoke needs WORKER and --reason TEXT",
      'mai-gate revoke dan --reason "silent for four days"',
    );
  const r = await revokeWorkerLeases(ws, { worker, reason });
  if (options.json) json(r);
  else
    out(
      r.revoked.length === 0
        ? `nothing revoked: ${worker} holds no open lease that has not expired`
        : `revoked ${r.revoked.length} lease(s) of ${worker} (version ${r.revoked.map((l) => l.version).join(", ")}): ${reason}`,
    );
  return 0;
}
