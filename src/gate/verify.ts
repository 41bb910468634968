import { InputError } from "../errors.js";
import { resolveCommit } from "../git/changes.js";
import { requireRole, workerOfBranch } from "../identity.js";
import { gatherRepoState, type RepoState } from "../repo/state.js";
import { shortBranch } from "../slots/rules.js";
import type { CompletionRecord } from "../store/types.js";
import { evaluate, type GateDeps, type GateResult } from "./service.js";
import { fromRef } from "./target.js";

export interface VerifyInput {
  worker: string;
  branch: string;
  sha: string;
}

export interface Verification {
  /**
   * A completion for exactly this worker, branch and sha is recorded, the branch still points at that
   * sha, and its gate is green now.
   */
  verified: boolean;
  completion: CompletionRecord | null;
  gate: GateResult;
  /** Why it is not verified (empty when it is). */
  reasons: string[];
}

const SHA = /^[0-9a-f]{7,64}$/i;

/**
 * The head's final word on a completion: one was recorded for exactly this worker, branch and
 * commit, the branch (local and origin's) still points at that commit, and the gate for that commit
 * is green when recomputed now, with main's config. Another worker's name is a reason, not an
 * error. The worker's own hook and shim only warn and enforce on its host; this is what the head
 * trusts.
 */
export async function verifyCompletion(
  ws: GateDeps,
  input: VerifyInput,
  options: { roles?: ("worker" | "head" | "tester")[] } = {},
): Promise<Verification> {
  if (!SHA.test(input.sha))
    throw new InputError(`"${input.sha}" is not a commit sha`, "Pass the full sha the completion names.");
  const owner = workerOfBranch(input.branch);
  if (!owner)
    throw new InputError(
      `${input.branch} is not a worker branch mai/<worker>/<task>`,
      "Pass the worker and the mai/<worker>/<task> branch its completion names.",
    );
  const state = await gatherRepoState(ws, { fetch: "always" });
  if (options.roles) requireRole(state.view.identity, options.roles, "verify completions");
  const sha = await fullSha(ws, input.sha);
  const target = await fromRef(ws.git, state, input.branch, sha);
  const [gate, completions] = await Promise.all([
    evaluate(ws, state, target),
    state.store.completions({ worker: input.worker, head: sha, limit: 20 }),
  ]);
  const completion = completions.find((c) => shortBranch(c.branch) === shortBranch(input.branch)) ?? null;
  const reasons: string[] = [];
  if (owner !== input.worker)
    reasons.push(`${shortBranch(input.branch)} is a branch of ${owner}, not of ${input.worker}`);
  reasons.push(...movedTips(state, input.branch, sha));
  if (!completion)
    reasons.push(
      `no completion of ${input.worker} is recorded for ${shortBranch(input.branch)} at ${sha.slice(0, 10)}`,
    );
  if (!gate.trust.fromMain) reasons.push(`the config is not main's: ${gate.trust.reason}`);
  for (const c of gate.unmet) reasons.push(`gate: ${c.kind}${c.file ? ` ${c.file}` : ""}: ${c.detail}`);
  return { verified: reasons.length === 0, completion, gate, reasons };
}

/**
 * The branch's refs (local and origin's) that point elsewhere than the verified commit: merging the
 * branch would merge commits nobody judged.
 */
function movedTips(state: RepoState, branch: string, sha: string): string[] {
  const short = shortBranch(branch);
  return [short, `origin/${short}`].flatMap((ref) => {
    const tip = state.view.refs.refs.get(ref);
    return tip && tip !== sha
      ? [
          `${ref} is at ${tip.slice(0, 10)}, not at ${sha.slice(0, 10)}: merging it would take commits this completion does not cover`,
        ]
      : [];
  });
}

async function fullSha(ws: GateDeps, sha: string): Promise<string> {
  const full = await resolveCommit(ws.git, sha);
  if (!full)
    throw new InputError(
      `no commit ${sha} in this repository`,
      "Fetch the worker's branch first (git fetch).",
    );
  return full;
}
