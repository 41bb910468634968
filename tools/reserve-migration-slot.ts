import { z } from "zod";
import { MAX_COUNT, MAX_NAME_LENGTH } from "../src/slots/names.js";
import type { ReserveResult } from "../src/slots/reserve.js";
import type { ToolRegistrar } from "./dispatch.js";
import { iso, ok, runTool, type ToolDeps } from "./result.js";
import { fetchOut, fetchSchema, productionOut, productionSchema } from "./shared-schemas.js";

export const name = "reserve_migration_slot";

export const inputSchema = {
  name: z
    .string()
    .min(1, "name is empty: say what the migration does, e.g. add_user_email")
    .max(MAX_NAME_LENGTH, {
      error: (issue) => `name is ${String(issue.input).length} characters; at most ${MAX_NAME_LENGTH}`,
    })
    .describe(
      "what the migration does, as it will appear in the file name: letters, digits, single _ or - (e.g. add_user_email). Not a path, no version number.",
    ),
  count: z
    .number()
    .int()
    .min(1, `out of range: 1 to ${MAX_COUNT}`)
    .max(MAX_COUNT, `out of range: 1 to ${MAX_COUNT}`)
    .optional()
    .describe(
      `how many consecutive versions to reserve (1 to ${MAX_COUNT}); default 1. Names get _1, _2, … suffixes.`,
    ),
};

const leaseOut = z.object({
  lease_id: z.string().describe("id of the lease; release_slot takes it"),
  version: z.number().describe("the reserved migration version"),
  name: z.string().describe("the migration name in the file name"),
  files: z.array(z.string()).describe("files to create, relative to the repository root (up before down)"),
  paths: z.array(z.string()).describe("the same files as absolute paths in this worktree"),
  expires_at: z.string().describe("ISO time the lease lapses unless renewed or the file is pushed"),
});

export const outputSchema = {
  worker: z.string().describe("the worker the lease belongs to"),
  branch: z.string().nullable().describe("the branch checked out when reserving"),
  idempotent: z.boolean().describe("true when this worker already held this name: the same lease, renewed"),
  leases: z.array(leaseOut).describe("the reserved versions, lowest first"),
  moved: z
    .array(
      z.object({
        from_version: z.number(),
        to_version: z.number(),
        reason: z.string(),
        rename: z.array(z.object({ from: z.string(), to: z.string() })).describe("git mv each from → to"),
      }),
    )
    .describe("leases that had to move to a higher version; rename your files as listed"),
  taken: z
    .object({
      max: z.number().describe("the highest version taken anywhere; new versions start above it"),
      main: z.number().nullable(),
      production: z.number().nullable(),
      branches: z.number().nullable(),
      leases: z.number().nullable(),
      branch_files_above_main: z
        .array(z.object({ version: z.number(), name: z.string(), ref: z.string() }))
        .describe("up to 10 branch files above main's maximum, highest first"),
    })
    .describe("what was taken where: the highest version held by each source"),
  production: productionSchema,
  fetch: fetchSchema,
  branches_scanned: z.number().describe("branches whose migration directory was read"),
  warnings: z.array(z.string()).describe("sources not consulted or defects found; read them"),
};

export function toOutput(r: ReserveResult) {
  return {
    worker: r.worker,
    branch: r.branch,
    idempotent: r.idempotent,
    leases: r.leases.map((l) => ({
      lease_id: l.leaseId,
      version: l.version,
      name: l.name,
      files: l.files,
      paths: l.paths,
      expires_at: iso(l.expiresAt),
    })),
    moved: r.moved.map((m) => ({
      from_version: m.fromVersion,
      to_version: m.toVersion,
      reason: m.reason,
      rename: m.rename,
    })),
    taken: {
      max: r.taken.max,
      main: r.taken.main,
      production: r.taken.production,
      branches: r.taken.branches,
      leases: r.taken.leases,
      branch_files_above_main: r.taken.branchAboveMain.slice(0, 10),
    },
    production: productionOut(r.production),
    fetch: fetchOut(r.fetch),
    branches_scanned: r.branchesScanned,
    warnings: r.warnings,
  };
}

export function toText(r: ReserveResult): string {
  const lines = r.leases.map(
    (l) =>
      `${r.idempotent ? "Already reserved" : "Reserved"} version ${l.version} (lease ${l.leaseId}): create ${l.files.join(" and ")}`,
  );
  for (const m of r.moved) {
    lines.push(
      `Moved ${m.fromVersion} → ${m.toVersion} (${m.reason}). Rename: ${m.rename.map((x) => `git mv ${x.from} ${x.to}`).join("; ")}`,
    );
  }
  const t = r.taken;
  lines.push(
    `Taken: main ${t.main ?? "none"}, production ${r.production.status === "checked" ? (t.production ?? "none") : `not checked`}, branches ${t.branches ?? "none"} (${r.branchesScanned} scanned), leases ${t.leases ?? "none"}.`,
  );
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  lines.push("Next: write the migration in exactly that file, then dry_run_migration before pushing.");
  return lines.join("\n");
}

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Reserve a migration version",
      description: `Call this BEFORE you create a SQL migration file, and never pick a version number yourself. It leases the next free version for your migration name: above everything on main, on every remote branch, in production's history and in other workers' leases. It answers the exact file name(s) and path(s) to create; create exactly those.

Calling it again with the same name returns the same lease (safe to retry; it renews the lease). If the answer lists "moved", main or production took your version meanwhile: rename your file with the git mv shown. If a warning says production was not checked, you may go on; the gate re-checks production before completion. Releasing: use release_slot when you drop the migration.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Reserve a migration version",
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { reserveSlot } = await import("../src/slots/reserve.js");
        const result = await reserveSlot(deps.workspace, { name: args.name, count: args.count });
        return ok(toOutput(result), toText(result));
      }),
  );
}
