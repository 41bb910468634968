import { InputError } from "../errors.js";
import { resolveCommit } from "../git/changes.js";
import { requireRole, workerOfBranch } from "../identity.js";
import { shortBranch } from "../slots/rules.js";
import { gatherRepoState } from "../slots/sources.js";
import type { CompletionRecord } from "../store/types.js";
import type { Workspace } from "../workspace.js";
import { evaluate, type GateResult } from "./service.js";
import { fromRef } from "./target.js";

export interface VerifyInput {
  worker: string;
  branch: string;
  sha: string;
}

export interface Verification {
  /** A completion for exactly this worker, branch and sha is recorded, and its gate is green now. */
  verified: boolean;
  completion: CompletionRecord | null;
  gate: GateResult;
  /** Why it is not verified (empty when it is). */
  reasons: string[];
}

const SHA = /^[0-9a-f]{7,64}$/i;

/**
 * The head's final word on a completion: one was recorded for exactly this worker, branch and
 * commit, and the gate for that commit is green when recomputed now, with main's config. The
 * worker's own hook and shim only warn and enforce on its host; this is what the head trusts.
 */
export async function verifyCompletion(
  ws: Workspace,
  input: VerifyInput,
  options: { roles?: ("worker" | "head" | "tester")[] } = {},
): Promise<Verification> {
  if (!SHA.test(input.sha))
    throw new InputError(`"${input.sha}" is not a commit sha`, "Pass the full sha the completion names.");
  const owner = workerOfBranch(input.branch);
  if (owner !== input.worker)
    throw new InputError(
      `${input.branch} is not a branch of ${input.worker}`,
      "Pass the worker and the mai/<worker>/<task> branch its completion names.",
    );
  const state = await gatherRepoState(ws, { fetch: true });
  if (options.roles) requireRole(state.view.identity, options.roles, "verify completions");
  const sha = await fullSha(ws, input.sha);
  const target = await fromRef(ws.git, state, input.branch, sha);
  const [gate, completions] = await Promise.all([
    evaluate(ws, state, target),
    state.store.completions({ worker: input.worker, head: sha, limit: 20 }),
  ]);
  const completion = completions.find((c) => shortBranch(c.branch) === shortBranch(input.branch)) ?? null;
  const reasons: string[] = [];
  if (!completion)
    reasons.push(
      `no completion of ${input.worker} is recorded for ${shortBranch(input.branch)} at ${sha.slice(0, 10)}`,
    );
  if (!gate.trust.fromMain) reasons.push(`the config is not main's: ${gate.trust.reason}`);
  for (const c of gate.unmet) reasons.push(`gate: ${c.kind}${c.file ? ` ${c.file}` : ""}: ${c.detail}`);
  return { verified: reasons.length === 0, completion, gate, reasons };
}

async function fullSha(ws: Workspace, sha: string): Promise<string> {
  const full = await resolveCommit(ws.git, sha);
  if (!full)
    throw new InputError(
      `no commit ${sha} in this repository`,
      "Fetch the worker's branch first (git fetch).",
    );
  return full;
}
