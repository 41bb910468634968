import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { type ListResult, listLeases } from "../src/slots/list.js";
import { LEASE_STATES } from "../src/slots/states.js";
import { fence, iso, ok, runTool, type ToolDeps } from "./result.js";
import { fetchOut, fetchSchema, productionOut, productionSchema } from "./shared-schemas.js";

export const name = "list_slot_leases";

export const inputSchema = {
  worker: z.string().optional().describe("only this worker's leases"),
  states: z.array(z.enum(LEASE_STATES)).optional().describe("only leases in these states"),
  include_ended: z.boolean().optional().describe("also list released and expired leases (default false)"),
  limit: z.number().int().optional().describe("at most this many leases, newest first (default 200)"),
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
  counts: z.record(z.enum(LEASE_STATES), z.number()).describe("leases per state among those read"),
  collisions: z
    .array(
      z.object({
        version: z.number(),
        holders: z.array(z.object({ name: z.string().nullable(), where: z.string() })),
        message: z.string(),
      }),
    )
    .describe("versions held under different names by main, production or branches, leased or not"),
  unleased: z
    .array(z.object({ version: z.number(), name: z.string(), refs: z.array(z.string()) }))
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
      acknowledged: acknowledged.map((a) => ({ check: a.check, message: a.message, marker: a.marker })),
      notes,
    })),
    counts: r.counts,
    collisions: r.collisions,
    unleased: r.unleased,
    main: { ref: r.main.ref, sha: r.main.sha, max_version: r.main.maxVersion },
    production: productionOut(r.production),
    fetch: fetchOut(r.fetch),
    branches_scanned: r.branchesScanned,
    warnings: r.warnings,
  };
}

export function toText(r: ListResult): string {
  const c = r.counts;
  const lines = [
    `${r.leases.length} lease(s): ${c.active} active, ${c.merged} merged, ${c.applied} applied, ${c.conflicted} conflicted, ${c.released} released, ${c.expired} expired.`,
  ];
  for (const l of r.leases.filter((x) => x.state === "conflicted")) {
    lines.push(`CONFLICT lease ${l.lease.id}: ${l.conflicts.map((x) => x.message).join("; ")}`);
  }
  for (const col of r.collisions) lines.push(`COLLISION ${col.message}`);
  for (const l of r.leases) {
    for (const a of l.acknowledged)
      lines.push(
        `ACKNOWLEDGED lease ${l.lease.id} (${l.lease.worker}, ${a.file}, \`${a.marker}\`):\n${fence("Warning", a.message)}`,
      );
  }
  if (r.unleased.length > 0) {
    lines.push(
      `Unleased branch migrations: ${r.unleased.map((u) => `${u.version}_${u.name} (${u.refs.join(", ")})`).join("; ")}`,
    );
  }
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join("\n");
}

export function register(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "List migration slot leases",
      description: `List migration version leases with their state computed now against git and production: active, merged (file on main), applied (in production's history), released, expired, or conflicted (main, production or another branch holds the version under a different name). Also lists collisions found anywhere in the repository (one version, several names: the next deploy would crash-loop) and branch migrations that no lease covers.

Workers: call it to check your own lease (worker filter) when a tool reports a conflict. Head: call it to review all leases; revoke stale ones with release_slot. A conflicted lease must be fixed before merge: reserve again to move it, then rename the file.`,
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
