import { z } from "zod";
import type { ReleaseResult } from "../src/slots/release.js";
import type { ToolRegistrar } from "./dispatch.js";
import { iso, ok, runTool, type ToolDeps } from "./result.js";

export const name = "release_slot";

export const inputSchema = {
  lease_id: z
    .string()
    .max(64)
    .optional()
    .describe("the lease to give back (from reserve_migration_slot or list_slot_leases)"),
  version: z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe("alternatively, the version of an open lease"),
  reason: z.string().max(500).describe("why the slot is given back, in a few words (kept in the audit log)"),
};

export const outputSchema = {
  lease_id: z.string(),
  version: z.number(),
  name: z.string(),
  worker: z.string().describe("the worker the lease belonged to"),
  released: z.boolean().describe("false when the lease had already ended: nothing changed"),
  end_reason: z
    .string()
    .nullable()
    .describe("released (by its worker), revoked (by the head), moved or expired"),
  ended_at: z.string().nullable(),
  note: z.string().describe("what this means for the version"),
};

function toOutput(r: ReleaseResult) {
  return {
    lease_id: r.lease.id,
    version: r.lease.version,
    name: r.lease.name,
    worker: r.lease.worker,
    released: r.released,
    end_reason: r.lease.endReason,
    ended_at: r.lease.endedAt === null ? null : iso(r.lease.endedAt),
    note: r.released
      ? r.role === "head"
        ? headNote(r)
        : `Version ${r.lease.version} is free again only if no branch still has a file with it. Delete the file from your branch if you made one.`
      : r.lease.endedAt === null
        ? `The lease had already expired (past its TTL, and no branch has its file); nothing changed.`
        : `The lease had already ended (${r.lease.endReason}); nothing changed.`,
  };
}

/** The head revoked someone's lease: what to tell them, never a worker's chore. */
function headNote(r: ReleaseResult): string {
  const l = r.lease;
  const whose =
    l.worker === r.by
      ? ""
      : ` Tell ${l.worker} why, and that a file with it must be renamed to a freshly reserved version.`;
  return `Revoked ${l.worker}'s lease of version ${l.version}; it shows as revoked, by ${r.by}, with your reason. The version stays taken while any branch${l.branch ? ` (such as ${l.branch})` : ""} still has a file with it.${whose}`;
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Release a migration slot",
      description: `Give back a migration version you reserved and no longer need (the migration was dropped or folded into another). Workers release only their own leases; the head may revoke any lease, with a reason (it shows as revoked, with who and why; revoke_worker_leases ends all of one worker's at once). Pass lease_id (or the version) and a short reason.

The version stays taken while any branch still has a file with it, so delete the file from your branch too. Releasing an already-ended lease changes nothing and says so.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Release a migration slot",
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { releaseSlot } = await import("../src/slots/release.js");
        const result = await releaseSlot(deps.workspace, {
          leaseId: args.lease_id,
          version: args.version,
          reason: args.reason,
        });
        const out = toOutput(result);
        return ok(
          out,
          `${result.released ? (out.end_reason === "revoked" ? "Revoked" : "Released") : "Not changed:"} lease ${out.lease_id} (version ${out.version}, ${out.worker}). ${out.note}`,
        );
      }),
  );
}
