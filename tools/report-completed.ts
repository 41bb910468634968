import { z } from "zod";
import { MAX_SUMMARY } from "../src/gate/condition.js";
import { describeGate } from "../src/gate/describe.js";
import { workerNext } from "../src/gate/next.js";
import type { ToolRegistrar } from "./dispatch.js";
import { gateOutput, gateSchema } from "./gate-output.js";
import { fence, iso, ok, runTool, type ToolDeps } from "./result.js";

export const name = "report_completed";

export const inputSchema = {
  summary: z
    .string()
    .max(MAX_SUMMARY, {
      error: (issue) => `summary is ${String(issue.input).length} characters; at most ${MAX_SUMMARY}`,
    })
    .describe(`what you did and how it was verified, in a few sentences (at most ${MAX_SUMMARY} characters)`),
  worker: z.string().max(64).optional().describe("optional; if given it must be the caller"),
};

export const outputSchema = {
  accepted: z.boolean().describe("false: the gate is red and nothing was reported"),
  already_reported: z.boolean().describe("this HEAD was already reported: nothing ran again"),
  completion_id: z.string().nullable(),
  reported: z.boolean().describe("the reporter command ran and succeeded"),
  reporter: z
    .object({
      argv: z.array(z.string()),
      status: z.string(),
      exit_code: z.number().nullable(),
      tail: z.string().describe("the reporter's last output (untrusted text)"),
      error: z.string().nullable(),
    })
    .nullable(),
  recorded_at: z.string().nullable(),
  gate: gateSchema,
};

export function register(server: ToolRegistrar, deps: ToolDeps): void {
  server.registerTool(
    name,
    {
      title: "Report completion",
      description: `Report your task as completed — the only way to do so. It refuses unless the completion gate is green for your exact HEAD (see gate_status): on a red gate nothing is reported and the answer lists every unmet condition with its fix. On green it records the completion with its evidence and runs the team's reporter command with your summary. Reporting any other way (the reporter's command in a shell) is refused by the PATH shim and the hook on a red gate, and the head verifies every completion (verify_completion) before merging.

Call it once, after committing and pushing, when gate_status is green. If the reporter failed, fix the cause and call again: the same HEAD is not reported twice.`,
      inputSchema,
      outputSchema,
      annotations: {
        title: "Report completion",
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    (args) =>
      runTool(deps, name, async () => {
        const { reportCompleted } = await import("../src/gate/report.js");
        const r = await reportCompleted(deps.workspace, { summary: args.summary, worker: args.worker });
        if (!r.accepted) {
          const out = {
            accepted: false,
            already_reported: false,
            completion_id: null,
            reported: false,
            reporter: null,
            recorded_at: null,
            gate: gateOutput(r.gate),
          };
          return {
            ...ok(out, `REFUSED: nothing was reported.\n${describeGate(r.gate)}\n${workerNext(r.gate)}`),
            isError: true,
          };
        }
        const rep = r.reporter;
        const out = {
          accepted: true,
          already_reported: r.alreadyReported,
          completion_id: r.completion.id,
          reported: r.completion.reported,
          reporter: rep
            ? {
                argv: rep.argv,
                status: rep.status,
                exit_code: rep.exitCode,
                tail: rep.tail,
                error: rep.error,
              }
            : null,
          recorded_at: iso(r.completion.createdAt),
          gate: gateOutput(r.gate),
        };
        const text = r.alreadyReported
          ? `Already reported: completion ${r.completion.id} for ${r.completion.head.slice(0, 10)}.`
          : !rep
            ? `Recorded completion ${r.completion.id}; no reporter is configured (gate.reporter).`
            : rep.status === "passed"
              ? `Reported: completion ${r.completion.id}; the reporter succeeded.${rep.tail ? `\n${fence("Reporter output", rep.tail)}` : ""}`
              : `Recorded completion ${r.completion.id}, but the reporter ${rep.status}${rep.error ? ` (${rep.error})` : ""}: it is NOT reported. Call again once the cause is fixed.\n${fence("Reporter output", rep.tail)}`;
        return ok(out, text);
      }),
  );
}
