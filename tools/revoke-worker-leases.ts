import { z } from "zod";
import type { RevokeResult } from "../src/slots/release.js";
import type { ToolRegistrar } from "./dispatch.js";
import { iso, ok, runTool, type ToolDeps } from "./result.js";

export const name = "revoke_worker_leases";

export const inputSchema = {
  worker: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .describe("the worker whose open leases all end, e.g. dan"),
  reason: z
    .string()
    .min(1)
    .max(500)
    .describe("why, in a few words (kept with each lease and in the audit log), e.g. 'silent for four days'"),
};

const leaseOut = z.object({
  lease_id: z.string(),
  version: z.number(),
  name: z.string(),
  branch: z.string().nullable(),
  created_at: z.string(),
});

export const outputSchema = {
  worker: z.string(),
  revoked: z.array(leaseOut).describe("the leases this call revoked: state revoked, with who and why"),
  unchanged: z
    .array(leaseOut)
    .describe(
      "open leases that had already expired (past their TTL, on no branch): nothing changed for them",
    ),
  by: z.string().describe("who revoked them"),
  reason: z.string(),
  note: z.string().describe("what this means for the versions, and what to tell the worker"),
};

function leaseOf(l: RevokeResult["revoked"][number]) {
  return { lease_id: l.id, version: l.version, name: l.name, branch: l.branch, created_at: iso(l.createdAt) };
}

function toText(r: RevokeResult): string {
  const versions = r.revoked.map((l) => l.version).join(", ");
  const head =
    r.revoked.length === 0
      ? `Nothing revoked: ${r.worker} holds no open lease${r.expired.length > 0 ? ` that has not expired already (${r.expired.length} expired)` : ""}.`
      : `Revoked ${r.revoked.length} lease(s) of ${r.worker} (version ${versions}): ${r.reason}.`;
  const next =
    r.revoked.length === 0
      ? "Next: nothing; review_workers shows the other workers."
      : `Next: tell ${r.worker} the leases are revoked and why; a file of theirs on one of these versions must move to a freshly reserved version before it merges.`;
  return `${head}\n${note(r)}\n${next}`;
}

function note(r: RevokeResult): string {
  return r.revoked.length === 0
    ? "No lease changed."
    : "The versions stay taken while any branch still has a file with them; list_slot_leases shows them as revoked, with who and why.";
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Revoke all of one worker's leases",
      description: `Head only. Ends every open migration slot lease of one worker in one call, with one reason: for a worker who went silent, was reassigned, or holds leases on a branch never pushed (review_workers flags them as stale and names the rule). Each lease becomes revoked, with who and why, in the audit log; a lease already expired (past its TTL, on no branch) is left as it is and listed as unchanged.

The versions stay taken while any branch still has a file with them. Tell the worker: a file of theirs on a revoked version must move to a freshly reserved version before it merges. To end a single lease, use release_slot.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Revoke all of one worker's leases",
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { revokeWorkerLeases } = await import("../src/slots/release.js");
        const r = await revokeWorkerLeases(deps.workspace, { worker: args.worker, reason: args.reason });
        const out = {
          worker: r.worker,
          revoked: r.revoked.map(leaseOf),
          unchanged: r.expired.map(leaseOf),
          by: r.by,
          reason: r.reason,
          note: note(r),
        };
        return ok(out, toText(r));
      }),
  );
}
