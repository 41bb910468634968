import type { DeployStatus } from "../deploy/report.js";
import { deployStatus } from "../deploy/status.js";
import type { Deps } from "../deps.js";
import { errorMessage } from "../errors.js";
import { evaluate, type GateDeps } from "../gate/service.js";
import { gateTarget } from "../gate/target.js";
import { workerOfBranch } from "../identity.js";
import { gatherRepoState } from "../repo/state.js";
import { type ListResult, listLeases } from "../slots/list.js";

/** The parts of `Deps` this module uses. */
type Uses = GateDeps & Pick<Deps, "cwd">;

export interface GateRow {
  branch: string;
  worker: string;
  head: string;
  green: boolean;
  unmet: string[];
}

/** Everything the status page shows; each part may instead be the error that kept it away. */
export interface PageData {
  generatedAt: number;
  leases: ListResult | { error: string };
  gates: GateRow[] | { error: string };
  deploy: DeployStatus | { error: string };
}

const MAX_GATES = 12;

/** Reads leases, every worker branch's gate (judged from its ref) and the deploy status, in parallel. */
export async function pageData(ws: Uses): Promise<PageData> {
  const [leases, gates, deploy] = await Promise.all([
    attempt(() => listLeases(ws, {})),
    attempt(() => branchGates(ws)),
    attempt(() => deployStatus(ws)),
  ]);
  return { generatedAt: ws.clock.now(), leases, gates, deploy };
}

async function attempt<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

async function branchGates(ws: Uses): Promise<GateRow[]> {
  const state = await gatherRepoState(ws, { fetch: false });
  const names = new Map<string, string>();
  for (const ref of state.view.refs.refs.keys()) {
    const short = ref.replace(/^origin\//, "");
    if (workerOfBranch(short) !== null && (!names.has(short) || ref.startsWith("origin/")))
      names.set(short, ref);
  }
  const rows: GateRow[] = [];
  for (const branch of [...names.keys()].sort().slice(0, MAX_GATES)) {
    try {
      const target = await gateTarget(ws.git, state, { branch });
      const g = await evaluate(ws, state, target);
      const unmet = g.unmet.map(
        (c) => `${c.kind}${c.file ? ` ${c.file.split("/").at(-1)}` : ""}: ${c.detail}`,
      );
      rows.push({ branch, worker: target.worker ?? "?", head: target.head, green: g.green, unmet });
    } catch (err) {
      rows.push({
        branch,
        worker: branch.split("/")[1] ?? "?",
        head: "",
        green: false,
        unmet: [errorMessage(err)],
      });
    }
  }
  return rows;
}
