import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "deploy-incident";

export function text(): string {
  return `Runbook when the site is down, degraded, or a deploy is stuck. Everything you need is in the tools' answers; do not look for other documents.

1. Call deploy_status with fresh: true. Read the verdict and every reason; note which sources are unknown. Then follow the section for the verdict.

down — the live site does not answer ready:
2. Production's history shows a conflict ("the next deploy will crash-loop"): the container crash-loops on a migration name mismatch. Do not hotfix in production. Rename the offending migration on main to a freshly reserved version (a worker calls reserve_migration_slot), merge, and redeploy; the migrator then applies it under its new name.
3. The history is dirty: a migration failed half-way. Find it (the highest version), repair the schema by hand as the migration intended, clear the dirty flag, then redeploy. Record what you did.
4. A failed Dokploy deployment, or a live sha behind main: the swap should have been rolled back. Call check_deploy_config: it names each missing setting (health check on the readiness endpoint, start-first, rollback, monitor, bounded restarts) and gives the exact YAML to write. Roll back to the last good image now; fix the settings after.
5. The Swarm service's reason (deploy.docker, deploy.service) says what the update did. "paused with no running task: the site is down": run \`docker service rollback <service>\` now, then read why the new tasks exited (the quoted line, \`docker service logs\`). "rolled back": the old image serves; fix what the new one said before deploying again. "stuck: a new task cannot be placed (host-mode port already in use)": start-first cannot work with a host-mode port; roll back, publish the port in ingress mode (check_deploy_config, start_first_host_port), deploy again.

degraded — the site may still serve, but something on main or in production must be fixed first:
6. CI failing on main: stop merging (safe_to_merge is false), find the breaking commit, revert or fix it.
7. A name conflict between main and production ("the next deploy will crash-loop"): the site still runs the old release, so act before anyone deploys. Either rename main's file to a freshly reserved version, or repair production's history row if production is the one that is wrong. Do not merge anything with migrations until deploy_status no longer lists the conflict.
8. A stuck migrator (dirty history): as step 3, before the next deploy.
9. A failed smoke run: read its failing steps (suite_status with its job id, or the tester's report); revert or fix what the last merge changed. A failed Dokploy deployment: read its error; redeploy only once the cause is fixed.

deploying — main is ahead of what runs, or its pipeline has not finished:
10. Main's CI still running or not reported: wait, and call deploy_status again in a few minutes. "No CI status" is not success; if it stays so, check the runner.
11. Live sha behind main, migrations pending, or a deployment running: the deploy is on its way. Do not pile merges on it; wait for the live sha to reach main. If it has not after about 15 minutes, treat it as a failed deploy: check the deployment's error and the Swarm service (check_deploy_config), and roll back if the new task never becomes ready.

unknown — "cannot tell: …":
12. A source is not configured or did not answer. Configure what the reasons name (deploy.gitea, deploy.health_url), or find why it did not answer (mai-gate doctor from a shell). A live site that does not answer at all may be down: check it from another place before merging anything.

After any fix:
13. deploy_status again until healthy, and ask the tester for a smoke run on main (run_pre_push_suite with profile smoke; the smoke-shift prompt).
14. Write down the cause, the fix, and which check would have caught it earlier.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Deploy incident runbook",
      description: "What to do, in order, when the site is down or degraded, or a deploy is stuck.",
    },
    () => ({ messages: [{ role: "user", content: { type: "text", text: text() } }] }),
  );
}
