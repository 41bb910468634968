import * as dryRunTool from "../../tools/dry-run-migration.js";
import { type DryRunDeps, dryRun } from "../dryrun/service.js";
import { json, out } from "./output.js";

/** `mai-gate dry-run [FILES...]`: the same rehearsal a worker's tool call makes. Exit 1 when it fails. */
export async function dryRunCommand(
  ws: DryRunDeps,
  files: string[],
  options: { json: boolean },
): Promise<number> {
  const result = await dryRun(ws, { files });
  if (options.json) json(dryRunTool.toOutput(result));
  else out(dryRunTool.toText(result));
  return result.passed ? 0 : 1;
}
