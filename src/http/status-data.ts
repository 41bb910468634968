import type { DeployStatus } from "../deploy/report.js";
import { deployStatus } from "../deploy/status.js";
import type { Deps } from "../deps.js";
import { errorMessage } from "../errors.js";
import type { GateDeps } from "../gate/service.js";
import { gatherRepoState } from "../repo/state.js";
import { pageNext } from "../review/next.js";
import { reviewOf } from "../review/service.js";
import type { Review } from "../review/types.js";
import { type VersionMap, versionMap } from "../review/version-map.js";
import { type ListResult, listLeases } from "../slots/list.js";

/** The parts of `Deps` this module uses. */
type Uses = GateDeps & Pick<Deps, "cwd">;

/** Everything the status page shows; each part may instead be the error that kept it away. */
export interface PageData {
  generatedAt: number;
  /** The head's one next step, from the review and the deploy verdict. */
  next: string;
  leases: ListResult | { error: string };
  review: Review | { error: string };
  map: VersionMap | { error: string };
  deploy: DeployStatus | { error: string };
}

/**
 * Reads the leases, the head's review of every worker (each branch's gate judged from its ref by
 * the verdict engine), the version map and the deploy status, in parallel.
 */
export async function pageData(ws: Uses): Promise<PageData> {
  const [leases, desk, deploy] = await Promise.all([
    attempt(() => listLeases(ws, {})),
    attempt(() => deskOf(ws)),
    attempt(() => deployStatus(ws)),
  ]);
  const review = "error" in desk ? desk : desk.review;
  const map = "error" in desk ? desk : desk.map;
  const next = pageNext("error" in review ? null : review, "error" in deploy ? null : deploy);
  return { generatedAt: ws.clock.now(), next, leases, review, map, deploy };
}

/** The review and the version map, from one read of the repository. */
async function deskOf(ws: Uses): Promise<{ review: Review; map: VersionMap }> {
  const state = await gatherRepoState(ws, { fetch: false });
  const open = await state.store.listLeases({ includeEnded: false, limit: 10_000 });
  return { review: await reviewOf(ws, state), map: versionMap(state, open) };
}

async function attempt<T>(fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
