import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "completion-checklist";

export function text(): string {
  return `Before you say your task is done — report_completed is the only way to report it, and it refuses a red gate:

1. Commit everything. A dirty worktree never passes the gate, and a suite run on it does not count.
2. For every migration file your branch adds: it has your lease (reserve_migration_slot named it), and dry_run_migration passed for its current content. After any edit, dry-run again.
3. Never edit, rename or delete a migration that main or production already has; add a new one.
4. Run run_pre_push_suite on your final HEAD. If it answers "running", wait with suite_status. Fix failures, commit, run again — every new commit needs a new pass.
5. Push your branch.
6. Call gate_status. Work through "unmet" from the top; each line says how to fix it.
7. When gate_status is green, call report_completed with a short summary: what changed, how it was verified.

If something on main itself is broken (dry_run_migration reports main_failure), tell the head instead of working around it.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Completion checklist",
      description: "What a worker does, in order, before reporting its task completed.",
    },
    () => ({ messages: [{ role: "user", content: { type: "text", text: text() } }] }),
  );
}
