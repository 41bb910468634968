import { z } from "zod";
import { nextForWorker } from "../src/gate/next.js";
import { DEFAULT_WAIT_S, MAX_WAIT_S, PROFILES } from "../src/suite/limits.js";
import type { ToolRegistrar } from "./dispatch.js";
import { ok, runTool, type ToolDeps } from "./result.js";
import { suiteOutput, suiteOutputSchema, suiteText } from "./suite-output.js";

export const name = "run_pre_push_suite";

export const inputSchema = {
  profile: z
    .enum(PROFILES)
    .optional()
    .describe("pre_push (default for workers) or smoke (default for the tester, run on main's HEAD)"),
  wait_seconds: z
    .number()
    .min(0, `out of range: 0 to ${MAX_WAIT_S}`)
    .max(MAX_WAIT_S, `out of range: 0 to ${MAX_WAIT_S}`)
    .optional()
    .describe(
      `how long to wait for the result before answering with a job id (default ${DEFAULT_WAIT_S}, at most ${MAX_WAIT_S})`,
    ),
};

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Run the pre-push suite",
      description: `Run the team's pre-push suite (build, tests, …, as configured on main) on a clean checkout of your HEAD's committed tree, before you push and before you report completion; the completion gate needs a pass for your exact tree. Commit first: uncommitted, ignored or hidden files are never part of the run (a step's share: paths, such as a dependency cache, are linked in and listed).

If this tree already passed, it answers at once from the record (the smoke profile always runs). Otherwise it runs the steps (skipping those whose "when" globs match no change on your branch) and answers when they finish or after wait_seconds with state "running" and a job_id: then call suite_status with that job_id to wait. A failure lists the failing Go tests, packages and compile errors with file and line, and the tail of the output; fix them, commit, run again. Progress notifications are sent while it runs; cancelling the call stops the run.`,
      inputSchema,
      outputSchema: suiteOutputSchema,
      annotations: {
        title: "Run the pre-push suite",
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      runTool(deps, name, async () => {
        const token = extra._meta?.progressToken;
        const { runSuite } = await import("../src/suite/service.js");
        const answer = await runSuite(deps.workspace, {
          profile: args.profile,
          waitSeconds: args.wait_seconds,
          signal: extra.signal,
          onProgress:
            token === undefined
              ? undefined
              : (p) =>
                  void extra
                    .sendNotification({
                      method: "notifications/progress",
                      params: { progressToken: token, progress: p.done, total: p.total, message: p.message },
                    })
                    .catch(() => undefined),
        });
        const gateNext =
          answer.run.state === "passed" && answer.run.profile === "pre_push"
            ? await nextForWorker(deps.workspace)
            : null;
        return ok(suiteOutput(answer, gateNext), suiteText(answer, gateNext));
      }),
  );
}
