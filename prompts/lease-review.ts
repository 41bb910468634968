import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "lease-review";

export function text(): string {
  return `Review migration slot leases as the head:

1. Call review_workers: every worker's branches, leases with ages and states, gates, completions and stale flags, with your next steps. For the lease details, call list_slot_leases (include_ended: false). Read "warnings" first: if production was not checked, say so in your review.
2. Collisions come first: every entry in "collisions" is a version held under two names (main, production, branches, a lease). Its "blame" names who must move: the branch whose file has no lease, never the rightful lease holder ("cara: version 22 is bob's lease — reserve and rename"). If main and production disagree, the next deploy crash-loops: rename main's file to a freshly reserved version, or repair production's history. Tell the blamed worker now; this is the outage that crash-loops the container.
3. Conflicted leases (main or production holds the version under another name): tell the lease's owner to call reserve_migration_slot again with the same name (it moves the lease) and to rename the file as the answer says. A lease whose version a branch file took without a lease is NOT conflicted: it stays; the file moves.
4. "unleased": branch migrations no lease covers. Tell their workers to reserve a slot and rename; leased_to names the rightful holder when there is one.
5. Stale leases: review_workers flags a worker as stale with the rule that fired (unpushed_leases: leases older than review.stale_hours on a branch never pushed; silent: nothing for review.silent_hours). Reach the worker, or revoke: revoke_worker_leases (worker, reason) ends all of one worker's leases in one call; release_slot (lease_id, reason) ends one. Revoked leases show as revoked, with who and why. A version stays taken while any branch still has a file with it.
7. "acknowledged" on a lease: its worker accepted a site-safety warning with a marker in the file — a contract step that breaks queries the live app runs (\`-- mai-gate: contract users.email\`) or a long lock on a large table (\`-- mai-gate: lock users\`). Check that the code that used the object has shipped and no running binary (nor a rollback target) still queries it, or that the lock falls in an agreed window; if not, ask the worker to remove the marker and use the safe pattern. deploy_status lists the acknowledged risks the next deploy ships.
8. Merged and applied leases need nothing.

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
