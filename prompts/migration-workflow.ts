import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

export const name = "migration-workflow";

export const argsSchema = {
  change: z.string().optional().describe("the schema change you are about to make, in a sentence"),
};

export function text(change?: string): string {
  const goal = change?.trim() ? `You are about to make this schema change: ${change.trim()}\n\n` : "";
  return `${goal}How to add a database migration safely in this repository (the app applies migrations at container start; a bad one takes the site down):

1. Reserve the version first. Call reserve_migration_slot with a short snake_case name for the change (e.g. add_user_email). Never choose a number yourself and never copy the highest number you see: other workers and production hold numbers you cannot see.
2. Create exactly the file(s) the answer names, at the path it gives. Do not rename them. If the answer lists "moved", run the git mv it shows.
3. Write the SQL against the schema as it is now on main and in production, not as you remember it: columns and tables may have been dropped or renamed by later migrations. Read main's recent migrations that touch the same tables.
4. Rehearse it: call dry_run_migration and fix every failure it reports (it explains which earlier migration dropped a column you use); dry-run again after every change until it passes.
5. "It applies" is not enough: the dry run also checks that the site stays up (site.findings). Fix each RED with the pattern it names:
   - live_binary — a query the running app sends breaks (the old binary keeps serving during the swap and after any rollback). Use expand/contract: add the new column or table and keep the old one; ship the code that stops using it; drop the old one in a later migration. Only that later, deliberate contract step says \`-- mai-gate: contract users.email\` (the object it removes) in the file; the head sees the marker.
   - data — production's rows reject the statement (NULLs, duplicates, orphans, values a cast rejects). Fix the data first, in batches, in an earlier migration; then add the constraint NOT VALID and VALIDATE CONSTRAINT in a later one. "not verified" means the probe could not tell: check it yourself.
   - lock — a rewrite, validation scan or index build holds a blocking lock on a large table. Add columns nullable without a volatile default and backfill in batches; ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT; CREATE INDEX CONCURRENTLY in a file of its own; start the file with SET lock_timeout = '5s'. \`-- mai-gate: lock users\` only with the head's agreement (a maintenance window).
   - other_branch (a warning) — your file fails if another open branch merges first: talk to that worker, rebase once theirs lands, or make yours apply either way.
6. Never edit or rename a migration that is already on main or applied in production: add a new one instead.
7. If you drop the change, call release_slot with the lease id and a reason, and delete the file.
8. Before reporting completion, check list_slot_leases for your worker: your lease must be active or merged, never conflicted. A conflicted lease means another migration owns that version: reserve again with the same name to move, then rename your file.

Keep each migration small and reversible where the layout has down files. Prefer CREATE INDEX CONCURRENTLY for large tables, in a file of its own.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Add a migration safely",
      description:
        "The steps a worker follows to add a SQL migration without colliding with other workers or production.",
      argsSchema,
    },
    (args) => ({
      messages: [{ role: "user", content: { type: "text", text: text(args.change) } }],
    }),
  );
}
