import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "lease-review";

export function text(): string {
  return `Review migration slot leases as the head:

1. Call list_slot_leases (include_ended: false). Read "warnings" first: if production was not checked, say so in your review.
2. Collisions come first: every entry in "collisions" is a version held under two names (main, production or branches). If production or main holds it, the other branch must reserve a new version and rename its file before it merges — tell that worker now; this is the outage that crash-loops the container.
3. Conflicted leases: tell each owner to call reserve_migration_slot again with the same name (it moves the lease) and to rename the file as the answer says.
4. "unleased": branch migrations no lease covers. Ask their workers to reserve a slot and rename.
5. Stale leases: active leases older than a few days whose worker is gone. Revoke them with release_slot (lease_id, reason). A version stays taken while any branch still has a file with it.
6. "acknowledged" on a lease: its worker accepted a site-safety warning with a marker in the file — a contract step that breaks queries the live app runs (\`-- mai-gate: contract users.email\`) or a long lock on a large table (\`-- mai-gate: lock users\`). Check that the code that used the object has shipped and no running binary (nor a rollback target) still queries it, or that the lock falls in an agreed window; if not, ask the worker to remove the marker and use the safe pattern. deploy_status lists the acknowledged risks the next deploy ships.
7. Merged and applied leases need nothing.

Report: collisions and who must act, acknowledged risks and your judgement of each, leases revoked (with reasons), and anything you could not check.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Lease review",
      description: "How the head reviews migration slot leases, collisions and stale reservations.",
    },
    () => ({ messages: [{ role: "user", content: { type: "text", text: text() } }] }),
  );
}
