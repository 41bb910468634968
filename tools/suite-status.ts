import { z } from "zod";
import { nextForWorker } from "../src/gate/next.js";
import { MAX_WAIT_S } from "../src/suite/limits.js";
import type { ToolRegistrar } from "./dispatch.js";
import { ok, runTool, type ToolDeps } from "./result.js";
import { suiteOutput, suiteOutputSchema, suiteText } from "./suite-output.js";

export const name = "suite_status";

export const inputSchema = {
  job_id: z
    .string()
    .max(64)
    .optional()
    .describe("the job id run_pre_push_suite answered; default: your latest run in this server"),
  wait_seconds: z
    .number()
    .min(0, `out of range: 0 to ${MAX_WAIT_S}`)
    .max(MAX_WAIT_S, `out of range: 0 to ${MAX_WAIT_S}`)
    .optional()
    .describe(`wait up to this long for the run to finish (default 0, at most ${MAX_WAIT_S})`),
};

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Suite job status",
      description: `The state of a suite run started by run_pre_push_suite: running, passed, failed, cancelled or interrupted, with every step's result. Call it with the job_id you got when run_pre_push_suite answered "running", and a wait_seconds (e.g. 90) to wait for the end instead of polling fast. When it has failed, fix what the steps report and run the suite again.`,
      inputSchema,
      outputSchema: suiteOutputSchema,
      annotations: {
        title: "Suite job status",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, extra) =>
      runTool(deps, name, async () => {
        const { suiteStatus } = await import("../src/suite/service.js");
        const answer = await suiteStatus(deps.workspace, {
          jobId: args.job_id,
          waitSeconds: args.wait_seconds,
          signal: extra.signal,
        });
        const gateNext =
          answer.run.state === "passed" && answer.run.profile === "pre_push"
            ? await nextForWorker(deps.workspace)
            : null;
        return ok(suiteOutput(answer, gateNext), suiteText(answer, gateNext));
      }),
  );
}
