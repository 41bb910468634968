import type { Config } from "../config/schema.js";
import type { Deps, View } from "../deps.js";
import { errorMessage, MigrationsDirError, StateError } from "../errors.js";
import { type FetchOutcome, fetchRemote } from "../git/repo.js";
import type { TreeEntry } from "../git/tree-scan.js";
import { type Catalog, deltaAgainst, type Holding } from "../migrations/catalog.js";
import type { ProdHistory } from "../prod/history.js";
import type { StateStore } from "../store/types.js";

/** What gathering the repository state uses of `Deps`. */
export type RepoStateDeps = Pick<
  Deps,
  "catalog" | "clock" | "git" | "logger" | "production" | "refreshed" | "scanner" | "store" | "view"
>;

export interface RefCatalog {
  ref: string;
  sha: string;
  catalog: Catalog;
}

/** A branch's migration (or numbered unparseable file) that main does not have. */
export interface BranchEntry {
  ref: string;
  entry: Holding;
}

export type ProductionState =
  | { status: "checked"; history: ProdHistory }
  | { status: "unreachable"; error: string }
  | { status: "not_configured"; reason: string };

/** Everything that can hold a migration version, read at one moment. */
export interface RepoState {
  view: View;
  config: Config;
  store: StateStore;
  fetch: FetchOutcome;
  main: RefCatalog;
  /** Every other branch (remote-tracking and local) whose tree has the migration directory. */
  branches: RefCatalog[];
  /** What the branches add over main, by version: the only branch files that can collide. */
  branchAdds: Map<number, BranchEntry[]>;
  production: ProductionState;
}

/**
 * Reads main, every branch and production. Fetches first (throttled across processes, bounded by a
 * timeout; offline is an outcome). Production's failure never fails the call: it is reported.
 */
export async function gatherRepoState(ws: RepoStateDeps, options: { fetch: boolean }): Promise<RepoState> {
  let view = await ws.view();
  const { config } = view.loaded;
  const store = await ws.store(view.loaded);
  const fetch = options.fetch
    ? await maybeFetch(ws, view, store)
    : ({ status: "skipped", reason: "not requested" } as const);
  if (fetch.status === "fetched") view = await ws.refreshed(view);
  const [catalogs, production] = await Promise.all([
    scanCatalogs(ws, view, config),
    readProduction(ws, view),
  ]);
  const branchAdds = branchAddsOf(catalogs.main, catalogs.branches);
  return { view, config, store, fetch, ...catalogs, branchAdds, production };
}

/** What each branch holds that main does not, by version: the only branch files that can collide. */
export function branchAddsOf(main: RefCatalog, branches: RefCatalog[]): Map<number, BranchEntry[]> {
  const adds = new Map<number, BranchEntry[]>();
  for (const b of branches) {
    for (const entry of deltaAgainst(b.catalog, main.catalog)) {
      const list = adds.get(entry.version);
      if (list) list.push({ ref: b.ref, entry });
      else adds.set(entry.version, [{ ref: b.ref, entry }]);
    }
  }
  return adds;
}

async function maybeFetch(ws: RepoStateDeps, view: View, store: StateStore): Promise<FetchOutcome> {
  const { git: gitConfig, main_branch } = view.loaded.config;
  // main_branch is a remote-tracking ref (origin/main) unless the config names the remote itself.
  const tracked = view.refs.remote.has(main_branch)
    ? main_branch.slice(0, main_branch.indexOf("/"))
    : undefined;
  const remote = gitConfig.remote ?? tracked;
  if (!remote) return { status: "skipped", reason: `${main_branch} is a local branch: no remote to fetch` };
  // The throttle is an economy, not a decision: when the state file is too busy to claim it, the
  // call goes on with the refs it has rather than fail.
  const claimed = await store
    .claimInterval(`fetch:${remote}`, gitConfig.fetch_interval_seconds * 1000, ws.clock.now())
    .catch((err: unknown) => {
      if (!(err instanceof StateError)) throw err;
      ws.logger.warn({ remote, err: err.message }, "the fetch throttle could not be claimed; not fetching");
      return null;
    });
  if (claimed === null)
    return { status: "skipped", reason: "the state file was too busy to claim the fetch" };
  if (!claimed) {
    return { status: "skipped", reason: `fetched less than ${gitConfig.fetch_interval_seconds}s ago` };
  }
  const outcome = await fetchRemote(ws.git, remote, gitConfig.fetch_timeout_seconds * 1000);
  if (outcome.status === "failed")
    ws.logger.warn({ remote, error: outcome.error }, "git fetch failed; using the refs we have");
  return outcome;
}

async function scanCatalogs(
  ws: RepoStateDeps,
  view: View,
  config: Config,
): Promise<{ main: RefCatalog; branches: RefCatalog[] }> {
  const { dir } = config.migrations;
  const mainRef = config.main_branch;
  const mainSha = view.refs.refs.get(mainRef);
  if (!mainSha) {
    throw new MigrationsDirError(
      `main_branch ${mainRef} does not exist in this repository`,
      "Run git fetch, or set main_branch in mai-gate.yaml to the ref that is main.",
    );
  }
  const refs = [...view.refs.refs].filter(([ref]) => ref !== mainRef);
  const scans = await ws.scanner(dir).scan([mainSha, ...refs.map(([, sha]) => sha)]);
  const mainScan = scans.get(mainSha);
  if (!mainScan) {
    throw new MigrationsDirError(
      `migrations.dir "${dir}" does not exist on ${mainRef}`,
      "Fix migrations.dir in mai-gate.yaml (a path from the repository root), or commit the directory to main.",
    );
  }
  const catalog = (tree: string, entries: TreeEntry[]) => ws.catalog(tree, entries, config.migrations);
  const branches: RefCatalog[] = [];
  for (const [ref, sha] of refs) {
    const scan = scans.get(sha);
    if (scan) branches.push({ ref, sha, catalog: catalog(scan.tree, scan.entries) });
  }
  return {
    main: { ref: mainRef, sha: mainSha, catalog: catalog(mainScan.tree, mainScan.entries) },
    branches,
  };
}

async function readProduction(ws: RepoStateDeps, view: View): Promise<ProductionState> {
  const dsnRef = view.loaded.envRefs.find((r) => r.key === "prod.dsn");
  let source: ReturnType<Deps["production"]>;
  try {
    source = ws.production(view.loaded);
  } catch (err) {
    return { status: "unreachable", error: errorMessage(err) };
  }
  if (!source) {
    const reason =
      dsnRef && !dsnRef.set ? `prod.dsn names ${dsnRef.env}, which is not set` : "prod.dsn is not configured";
    return { status: "not_configured", reason };
  }
  try {
    return { status: "checked", history: await source.readHistory() };
  } catch (err) {
    return { status: "unreachable", error: errorMessage(err) };
  }
}
