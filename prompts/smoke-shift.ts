import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const name = "smoke-shift";

export function text(): string {
  return `Runbook for the smoke-test shift (the tester role). Smoke checks the running system after a merge or a deploy; it always runs, on a clean checkout of main's HEAD, and records main's sha, the sha the live site reported and when.

1. When main moves (a merge) or a deploy finishes, call deploy_status. Its "Smoke" line says when the latest smoke ran, on which main and against which live sha, and whether it is stale (older than suite.smoke_max_age_minutes) or contradicted ("live down, latest smoke passed before it").
2. If the verdict is deploying (main's CI running, live behind main, migrations pending), wait and call deploy_status again: smoke the release that is live, not the one on its way. Do not wait forever: after about 15 minutes of deploying, tell the head.
3. Call run_pre_push_suite (profile smoke is your default). If it answers "running", wait with suite_status and the job_id.
4. Passed: nothing to do. Check that the answer's live sha is main's (a live sha behind main means the deploy has not landed: smoke again after it). A pass while the live site was down is not a pass: tell the head.
5. Failed: call deploy_status with fresh: true and tell the head at once, with the failing steps, main's sha and the live sha from the answer. Do not fix code yourself and do not retry in a loop; the head decides (revert, fix forward, or the deploy-incident runbook).
6. deploy_status says down or degraded although smoke passed: the latest smoke is contradicted. Tell the head; run smoke again once the site answers ready.
7. Keep the shift's rhythm: at least one smoke run within every suite.smoke_max_age_minutes while merges happen, and one after every deploy.

Report each run in one line: passed/failed, main sha, live sha, when.`;
}

export function register(server: McpServer): void {
  server.registerPrompt(
    name,
    {
      title: "Smoke shift runbook",
      description:
        "What the tester does after each merge or deploy: run smoke on main, read it against the live site, tell the head.",
    },
    () => ({ messages: [{ role: "user", content: { type: "text", text: text() } }] }),
  );
}
