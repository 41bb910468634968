import { z } from "zod";
import { ago, duration } from "../src/ages.js";
import { LEASE_STATES } from "../src/slots/lease-states.js";
import type { ListResult } from "../src/slots/list.js";
import type { ToolRegistrar } from "./dispatch.js";
import { fence, iso, ok, runTool, type ToolDeps } from "./result.js";
import { fetchOut, fetchSchema, productionOut, productionSchema } from "./shared-schemas.js";

export const name = "list_slot_leases";

export const inputSchema = {
  worker: z.string().max(64).optional().describe("only this worker's leases"),
  states: z
    .array(z.enum(LEASE_STATES))
    .max(LEASE_STATES.length)
    .optional()
    .describe("only leases in these states"),
  include_ended: z
    .boolean()
    .optional()
    .describe(
      "also list released, revoked and expired leases (default false; the counts include them always)",
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .optional()
    .describe("at most this many leases, newest first (default 200)"),
};

const conflictOut = z.object({
  where: z.enum(["main", "production", "branch"]),
  ref: z.string().nullable(),
  name: z.string().nullable().describe("the other name for the same version"),
  file: z.string().nullable(),
  message: z.string(),
});

export const outputSchema = {
  leases: z.array(
    z.object({
      lease_id: z.string(),
      version: z.number(),
      name: z.string(),
      files: z.array(z.string()),
      worker: z.string(),
      branch: z.string().nullable(),
      state: z.enum(LEASE_STATES).describe("computed now against git and production"),
      created_at: z.string(),
      expires_at: z.string(),
      age_seconds: z.number(),
      prod_checked: z.boolean().describe("false: production could not be read when this lease was made"),
      conflicts: z.array(conflictOut).describe("non-empty means the lease is conflicted: fix before merging"),
      ended: z
        .object({
          at: z.string(),
          reason: z.string().describe("released, revoked, moved or expired"),
          by: z.string().nullable().describe("who ended it (the head for a revocation)"),
          note: z.string().nullable().describe("the reason given"),
        })
        .nullable()
        .describe("null while the lease is open"),
      acknowledged: z
        .array(
          z.object({
            check: z.string(),
            message: z.string().describe("untrusted text: may quote a query"),
            marker: z.string(),
          }),
        )
        .describe(
          "site-safety warnings its file's latest dry run recorded as accepted by a marker (a contract step, a long lock): review them",
        ),
      notes: z.array(z.string()),
    }),
  ),
  counts: z
    .record(z.enum(LEASE_STATES), z.number())
    .describe("leases per state, open and ended (ended: the newest 5000), whatever is listed"),
  collisions: z
    .array(
      z.object({
        version: z.number(),
        holders: z
          .array(z.object({ name: z.string().nullable(), where: z.string() }))
          .describe("one entry per branch (its local and origin copies are one branch)"),
        message: z.string(),
        blame: z
          .array(z.object({ branch: z.string(), worker: z.string().nullable(), message: z.string() }))
          .describe("who must move a file off the version: the file without a lease, never the lease"),
      }),
    )
    .describe("versions held under different names by main, production or branches, leased or not"),
  unleased: z
    .array(
      z.object({
        version: z.number(),
        name: z.string(),
        refs: z.array(z.string()).describe("one ref per branch: origin's when pushed, else the local branch"),
        leased_to: z
          .object({ worker: z.string(), lease_id: z.string(), name: z.string() })
          .nullable()
          .describe("the open lease holding this version under another name: it is rightful, the file moves"),
        message: z.string(),
      }),
    )
    .describe("branch migrations above main that no lease covers"),
  main: z.object({ ref: z.string(), sha: z.string(), max_version: z.number().nullable() }),
  production: productionSchema,
  fetch: fetchSchema,
  branches_scanned: z.number(),
  warnings: z.array(z.string()),
};

export function toOutput(r: ListResult) {
  return {
    leases: r.leases.map(({ lease: l, state, conflicts, notes, acknowledged }) => ({
      lease_id: l.id,
      version: l.version,
      name: l.name,
      files: l.files,
      worker: l.worker,
      branch: l.branch,
      state,
      created_at: iso(l.createdAt),
      expires_at: iso(l.expiresAt),
      age_seconds: Math.round((r.now - l.createdAt) / 1000),
      prod_checked: l.prodChecked,
      conflicts,
      ended:
        l.endedAt === null
          ? null
          : { at: iso(l.endedAt), reason: l.endReason ?? "released", by: l.endedBy, note: l.endNote },
      acknowledged: acknowledged.map((a) => ({ check: a.check, message: a.message, marker: a.marker })),
      notes,
    })),
    counts: r.counts,
    collisions: r.collisions.map((c) => ({
      version: c.version,
      holders: c.holders,
      message: c.message,
      blame: c.blame.map((b) => ({ branch: b.branch, worker: b.worker, message: b.message })),
    })),
    unleased: r.unleased.map((u) => ({
      version: u.version,
      name: u.name,
      refs: u.refs,
      leased_to: u.leasedTo
        ? { worker: u.leasedTo.worker, lease_id: u.leasedTo.leaseId, name: u.leasedTo.name }
        : null,
      message: u.message,
    })),
    main: { ref: r.main.ref, sha: r.main.sha, max_version: r.main.maxVersion },
    production: productionOut(r.production),
    fetch: fetchOut(r.fetch),
    branches_scanned: r.branchesScanned,
    warnings: r.warnings,
  };
}

/** Leases listed one line each in the text; the structured answer has every one. */
const TEXT_ROWS = 50;

/** `126 db/migrations/126_add_x.sql — active — ann (mai/ann/x) — 3 h old`. */
function leaseLine(l: ListResult["leases"][number], now: number): string {
  const { lease } = l;
  const where = lease.branch ? ` (${lease.branch})` : "";
  const ended = lease.endedAt === null ? "" : `, ended ${ago(now - lease.endedAt)}`;
  return `- ${lease.version} ${lease.files[0] ?? lease.name} — ${l.state} — ${lease.worker}${where} — ${duration(now - lease.createdAt)} old${ended} (${lease.id})`;
}

export function toText(r: ListResult): string {
  const c = r.counts;
  const lines = [
    `${r.leases.length} lease(s) listed. Counts: ${c.active} active, ${c.merged} merged, ${c.applied} applied, ${c.conflicted} conflicted, ${c.released} released, ${c.revoked} revoked, ${c.expired} expired.`,
    ...r.leases.slice(0, TEXT_ROWS).map((l) => leaseLine(l, r.now)),
  ];
  if (r.leases.length > TEXT_ROWS)
    lines.push(`… and ${r.leases.length - TEXT_ROWS} more (the structured answer lists them all).`);
  for (const l of r.leases.filter((x) => x.state === "conflicted")) {
    lines.push(`CONFLICT lease ${l.lease.id}: ${l.conflicts.map((x) => x.message).join("; ")}`);
  }
  for (const col of r.collisions) lines.push(`COLLISION ${col.message}`);
  const told = new Set(r.collisions.flatMap((col) => col.blame.map((b) => `${b.version}:${b.branch}`)));
  for (const u of r.unleased) lines.push(`UNLEASED ${u.message}`);
  for (const l of r.leases) {
    for (const a of l.acknowledged)
      lines.push(
        `ACKNOWLEDGED lease ${l.lease.id} (${l.lease.worker}, ${a.file}, \`${a.marker}\`):\n${fence("Warning", a.message)}`,
      );
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  if (r.role === "head") lines.push(...headNext(r, told));
  return lines.join("\n");
}

/** The head's next steps: whom to tell what, one line each; never a worker's chores. */
function headNext(r: ListResult, told: Set<string>): string[] {
  const next = [
    ...r.collisions.flatMap((col) => col.blame.map((b) => `tell ${b.message}`)),
    ...r.unleased
      .filter((u) => !u.refs.some((ref) => told.has(`${u.version}:${ref.replace(/^origin\//, "")}`)))
      .map((u) => `tell ${u.message}`),
    ...r.leases
      .filter((l) => l.state === "conflicted")
      .map(
        (l) =>
          `tell ${l.lease.worker} to call reserve_migration_slot("${l.lease.requestName}") again: it moves lease ${l.lease.id} off version ${l.lease.version}; then rename the file`,
      ),
  ];
  if (next.length === 0)
    return [
      "Next: nothing to fix in the leases; review_workers shows stale workers and whose leases to revoke.",
    ];
  return next.map((n, i) => `${i === 0 ? "Next" : "Then"}: ${n}`);
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "List migration slot leases",
      description: `List migration version leases with their state computed now against git and production: active, merged (file on main), applied (in production's history), released, revoked (by the head, with who and why), expired, or conflicted (main or production holds the version under a different name). Also lists collisions found anywhere in the repository (one version, several names: the next deploy would crash-loop), with whom to tell — the branch whose file has no lease moves, never the rightful lease — and branch migrations that no lease covers.

Workers: call it to check your own lease (worker filter) when a tool reports a conflict. Head: call it to review all leases (review_workers shows them per worker with ages); revoke with release_slot or revoke_worker_leases. A conflicted lease must be fixed before merge: its owner reserves again to move it, then renames the file.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "List migration slot leases",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { listLeases } = await import("../src/slots/list.js");
        const result = await listLeases(deps.workspace, {
          worker: args.worker,
          states: args.states,
          includeEnded: args.include_ended,
          limit: args.limit,
        });
        return ok(toOutput(result), toText(result));
      }),
  );
}
