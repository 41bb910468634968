import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "deploy-incident";

export function text(): string {
  return `Runbook when the site is down or a deploy went wrong:

1. Call deploy_status with fresh: true. Read the verdict and every reason; note which sources are unknown.
2. down, and production's history shows a conflict ("the next deploy will crash-loop"): the container crash-loops on a migration name mismatch. Do not hotfix in production. Rename the offending migration on main to a freshly reserved version (reserve_migration_slot), merge, and redeploy; the migrator then applies it under its new name.
3. down, and the history is dirty: a migration failed half-way. Find it (the highest version), repair the schema by hand as the migration intended, clear the dirty flag, then redeploy. Record what you did.
4. down, with a failed Dokploy deployment or a live sha behind main: the swap should have been rolled back. Check the stack's deploy settings (health check on the readiness endpoint, start-first, rollback, monitor) — see the README's "Keeping the site up" — and roll back to the last good image.
5. The Swarm service's reason (deploy.docker, deploy.service) says what the update did. "paused with no running task: the site is down": run \`docker service rollback <service>\` now, then read why the new tasks exited (the quoted line, \`docker service logs\`). "rolled back": the old image serves; fix what the new one said before deploying again. "stuck: a new task cannot be placed (host-mode port already in use)": start-first cannot work with a host-mode port; roll back, publish the port in ingress mode (check_deploy_config, start_first_host_port), deploy again.
6. degraded with CI failing on main: stop merging (safe_to_merge is false), find the breaking commit, revert or fix it.
7. unknown ("cannot tell: …"): a source is not configured or did not answer. Configure what the reasons name (deploy.gitea, deploy.health_url), or find why it did not answer (mai-gate doctor). A live site that does not answer at all may be down: check it from another place before merging anything.
8. After the fix: deploy_status again until healthy, and ask the tester for a smoke run on main (run_pre_push_suite with profile smoke).
9. Write down the cause, the fix, and which check would have caught it earlier.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Deploy incident runbook",
      description: "What to do, in order, when the site is down or a deploy failed.",
    },
    () => ({ messages: [{ role: "user", content: { type: "text", text: text() } }] }),
  );
}
