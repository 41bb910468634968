import type { Deps } from "../deps.js";
import { describeError } from "../errors.js";
import { commitsAhead } from "../git/changes.js";
import { invokesReporter, namesWord } from "./command-match.js";
import { mainRefsKey, rememberReporter } from "./hook-cache.js";
import type { GateResult } from "./service.js";

/**
 * Claude Code hooks, so the gate holds even when a worker reports some other way than
 * report_completed. Each answers what to print on stdout (null: nothing, the default flow).
 */
interface PreToolUseInput {
  tool_name?: string;
  tool_input?: { command?: unknown };
  cwd?: string;
}

interface StopInput {
  stop_hook_active?: boolean;
  cwd?: string;
}

/** Opens what a hook needs for the session's directory; the hook closes it when it has answered. */
export type OpenWorkspace = (cwd: string | undefined) => Deps & { close(): Promise<void> };

/**
 * PreToolUse: a Bash command that runs the reporter (read with a shell parser, see
 * `invokesReporter`) while the gate is red is denied with the reasons. If the gate cannot be
 * judged, the reporter command is denied too (fail closed); when even the config cannot be read,
 * a command naming `report` in any of its words counts as one.
 */
export async function preToolUseHook(raw: unknown, open: OpenWorkspace): Promise<string | null> {
  const input = (raw ?? {}) as PreToolUseInput;
  const command = input.tool_input?.command;
  if (input.tool_name !== "Bash" || typeof command !== "string") return null;
  const ws = open(input.cwd);
  try {
    let reporter: string[] | undefined;
    try {
      // This hook runs before every shell command: only the config is read until the command is a
      // report, and what the fast path needs next time is remembered (hook-cache.ts).
      const view = await ws.view();
      reporter = view.loaded.config.gate?.reporter;
      rememberReporter(
        view.repo.commonDir,
        mainRefsKey(ws.env, (ref) => view.refs.refs.get(ref)),
        reporter,
      );
    } catch (err) {
      return namesWord(command, "report") ? cannotJudge(err) : null;
    }
    if (!reporter || !invokesReporter(command, reporter)) return null;
    // The verdict engine loads only for a command that reports: this hook runs before every command.
    const { describeGate, gateStatus } = await import("./service.js");
    let gate: GateResult;
    try {
      gate = await gateStatus(ws, {});
    } catch (err) {
      return cannotJudge(err);
    }
    if (gate.green) return null;
    return deny(`mai-gate: the completion gate is red, so this report is refused.\n${describeGate(gate)}`);
  } finally {
    await ws.close();
  }
}

/**
 * Stop: while the branch has commits of its own and their gate is red, stopping is blocked once
 * with the reasons; with `stop_hook_active` (Claude already continued once) it always lets go.
 * If the gate cannot be judged it lets go (fail open): a stuck agent helps nobody.
 */
export async function stopHook(raw: unknown, open: OpenWorkspace): Promise<string | null> {
  const input = (raw ?? {}) as StopInput;
  if (input.stop_hook_active) return null;
  const ws = open(input.cwd);
  try {
    const [{ gatherRepoState }, { describeGate, evaluate }, { gateTarget }] = await Promise.all([
      import("../repo/state.js"),
      import("./service.js"),
      import("./target.js"),
    ]);
    const state = await gatherRepoState(ws, { fetch: false });
    if ((await commitsAhead(ws.git, state.main.sha, "HEAD")) === 0) return null;
    const gate = await evaluate(ws, state, await gateTarget(ws.git, state, {}));
    if (gate.green) return null;
    return JSON.stringify({
      decision: "block",
      reason: `Your branch has commits whose completion gate is red. Fix these, or say why you stop:\n${describeGate(gate)}`,
    });
  } catch {
    return null;
  } finally {
    await ws.close();
  }
}

function cannotJudge(err: unknown): string {
  return deny(`mai-gate could not judge the gate, so this report is refused: ${describeError(err)}`);
}

function deny(reason: string): string {
  return JSON.stringify({
    hookSpecificOutput: {
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason: reason,
    },
  });
}
