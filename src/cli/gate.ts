import { writeFile } from "node:fs/promises";
import { gateOutput } from "../../tools/gate-output.js";
import { verificationOutput, verificationText } from "../../tools/verify-completion.js";
import type { CheckResult } from "../ci/types.js";
import { EXIT } from "../ci/types.js";
import type { DryRunDeps } from "../dryrun/service.js";
import { describeError, InputError } from "../errors.js";
import { describeGate, gateStatus } from "../gate/service.js";
import { verifyCompletion } from "../gate/verify.js";
import { fail, json, out, table, UsageError } from "./output.js";

/** `mai-gate gate [--branch B]`: the completion gate, for people and the head. Exit 1 when red. */
export async function gateCommand(
  ws: DryRunDeps,
  options: { branch?: string; json: boolean },
): Promise<number> {
  const gate = await gateStatus(ws, { branch: options.branch });
  if (options.json) json(gateOutput(gate));
  else {
    out(describeGate(gate));
    const rows = gate.conditions.map((c) => [
      c.passed === null ? "-" : c.passed ? "pass" : c.required ? "FAIL" : "fail",
      c.rule ? `${c.kind}/${c.rule}` : c.kind,
      c.file ?? "",
      c.detail,
    ]);
    out(table(["", "CONDITION", "FILE", "DETAIL"], rows));
  }
  return gate.green ? 0 : 1;
}

/** `mai-gate completions`: recorded completions, newest first (the head's view). */
export async function completionsCommand(
  ws: DryRunDeps,
  options: { worker?: string; json: boolean },
): Promise<number> {
  const view = await ws.view();
  const store = await ws.store(view.loaded);
  const rows = await store.completions({ ...(options.worker ? { worker: options.worker } : {}), limit: 200 });
  if (options.json) json(rows);
  else {
    out(
      table(
        ["WHEN", "WORKER", "BRANCH", "HEAD", "REPORTED", "SUMMARY"],
        rows.map((c) => [
          new Date(c.createdAt).toISOString(),
          c.worker,
          c.branch,
          c.head.slice(0, 10),
          c.reported ? "yes" : "NO",
          c.summary.split("\n")[0]!.slice(0, 60),
        ]),
      ),
    );
  }
  return 0;
}

/**
 * `mai-gate verify WORKER BRANCH SHA`: the head's final word on a completion. Exit 0 only when a
 * completion for exactly that sha is recorded and its gate is green now; 1 when not; 2 for bad
 * usage (missing arguments, a sha that is not one); 3 when it cannot be judged.
 */
export async function verifyCommand(
  ws: DryRunDeps,
  args: string[],
  options: { json: boolean },
): Promise<number> {
  const [worker, branch, sha] = args;
  if (!worker || !branch || !sha || args.length > 3)
    return fail(
      new InputError("verify needs WORKER BRANCH SHA", "mai-gate verify ann mai/ann/fix 1a2b3c4d…"),
      EXIT.usage,
    );
  let v: Awaited<ReturnType<typeof verifyCompletion>>;
  try {
    v = await verifyCompletion(ws, { worker, branch, sha });
  } catch (err) {
    if (err instanceof InputError) return fail(err, EXIT.usage);
    process.stderr.write(`mai-gate verify could not judge: ${describeError(err)}\n`);
    return EXIT.couldNotRun;
  }
  out(
    options.json ? JSON.stringify(verificationOutput(v), null, 2) : verificationText(v, { worker, branch }),
  );
  return v.verified ? EXIT.passed : EXIT.failed;
}

/** `mai-gate check` for CI: exit 0 passed, 1 failed, 3 could not run (see the README). */
export async function checkCommand(
  ws: DryRunDeps,
  options: { format: string; junit?: string; dryRun: boolean; branch?: string },
): Promise<number> {
  if (!["human", "github", "json"].includes(options.format)) {
    throw new UsageError(`unknown --format ${options.format}`, "Use --format human, github or json.");
  }
  // The rehearsal and its engines load only for check, not for every command in this file.
  const [{ runCheck }, { formatGithub, formatHuman, formatJunit }] = await Promise.all([
    import("../ci/check.js"),
    import("../ci/format.js"),
  ]);
  let result: CheckResult;
  try {
    result = await runCheck(ws, { dryRun: options.dryRun, branch: options.branch });
  } catch (err) {
    const message = describeError(err);
    if (options.format === "github")
      out(
        `::error title=mai-gate check could not run::${message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}`,
      );
    process.stderr.write(`mai-gate check could not run: ${message}\n`);
    return EXIT.couldNotRun;
  }
  if (options.format === "json") json(result);
  else out(options.format === "github" ? formatGithub(result) : formatHuman(result));
  if (options.junit) await writeFile(options.junit, formatJunit(result));
  return result.passed ? EXIT.passed : EXIT.failed;
}
