import type { Config } from "../config/schema.js";
import type { Deps, View } from "../deps.js";
import { errorMessage, MigrationsDirError, StateError } from "../errors.js";
import { type FetchOutcome, fetchRemote } from "../git/repo.js";
import { type Catalog, deltaAgainst, type Holding } from "../migrations/catalog.js";
import type { ProdHistory } from "../prod/history.js";
import type { StateStore } from "../store/types.js";
import { storedAddedEntries } from "./branch-scan.js";

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
  /**
   * Every other branch (remote-tracking and local) whose tree has the migration directory, with
   * the catalog of the files whose names main's directory lacks (of its whole directory in unit
   * tests: what a branch adds over main is the same).
   */
  branches: RefCatalog[];
  /** What the branches add over main, by version: the only branch files that can collide. */
  branchAdds: Map<number, BranchEntry[]>;
  production: ProductionState;
}

/**
 * Reads main, every branch and production. Fetches first (throttled across processes unless
 * `fetch: "always"`, bounded by a timeout; offline is an outcome). Production's failure never fails
 * the call: it is reported.
 */
export async function gatherRepoState(
  ws: RepoStateDeps,
  options: { fetch: boolean | "always" },
): Promise<RepoState> {
  let view = await ws.view();
  const { config } = view.loaded;
  const store = await ws.store(view.loaded);
  const fetch = options.fetch
    ? await maybeFetch(ws, view, store, options.fetch === "always")
    : ({ status: "skipped", reason: "not requested" } as const);
  if (fetch.status === "fetched") view = await ws.refreshed(view);
  const [scanned, production] = await Promise.all([
    scanRefs(ws, view, config, store),
    readProduction(ws, view),
  ]);
  return { view, config, store, fetch, ...scanned, production };
}

type Scanned = Pick<RepoState, "main" | "branches" | "branchAdds">;

/** The last scan per directory scanner: while no ref moved, the next call reuses it whole. */
const lastScan = new WeakMap<object, { key: string; scanned: Scanned }>();

async function scanRefs(ws: RepoStateDeps, view: View, config: Config, store: StateStore): Promise<Scanned> {
  const scanner = ws.scanner(config.migrations.dir);
  const key = JSON.stringify([view.refs.key, config.main_branch, config.migrations]);
  const last = lastScan.get(scanner);
  if (last?.key === key) return last.scanned;
  const catalogs = await scanCatalogs(ws, view, config, store);
  const scanned = { ...catalogs, branchAdds: branchAddsOf(catalogs.main, catalogs.branches) };
  lastScan.set(scanner, { key, scanned });
  return scanned;
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

/** The remote workers push to: git.remote, else main_branch's remote; null when main is a local branch. */
export function remoteOf(state: Pick<RepoState, "view">): string | null {
  const { git: gitConfig, main_branch } = state.view.loaded.config;
  // main_branch is a remote-tracking ref (origin/main) unless the config names the remote itself.
  const tracked = state.view.refs.remote.has(main_branch)
    ? main_branch.slice(0, main_branch.indexOf("/"))
    : undefined;
  return gitConfig.remote ?? tracked ?? null;
}

async function maybeFetch(
  ws: RepoStateDeps,
  view: View,
  store: StateStore,
  always: boolean,
): Promise<FetchOutcome> {
  const { git: gitConfig, main_branch } = view.loaded.config;
  const remote = remoteOf({ view });
  if (!remote) return { status: "skipped", reason: `${main_branch} is a local branch: no remote to fetch` };
  // The throttle is an economy, not a decision: when the state file is too busy to claim it, the
  // call goes on with the refs it has rather than fail.
  const claimed = always
    ? true
    : await store
        .claimInterval(`fetch:${remote}`, gitConfig.fetch_interval_seconds * 1000, ws.clock.now())
        .catch((err: unknown) => {
          if (!(err instanceof StateError)) throw err;
          ws.logger.warn(
            { remote, err: err.message },
            "the fetch throttle could not be claimed; not fetching",
          );
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

/**
 * Main's directory in full, and of every other branch only the names main's directory lacks: the
 * directories' trees through one `git cat-file`, what each adds over main's through one
 * `git diff-tree --stdin` for the trees not seen before (kept in the state store for the next
 * process), so the cost follows the branches that changed, not the number of branches.
 */
async function scanCatalogs(
  ws: RepoStateDeps,
  view: View,
  config: Config,
  store: StateStore,
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
  const scanner = ws.scanner(dir);
  const mainScan = (await scanner.scan([mainSha])).get(mainSha);
  if (!mainScan) {
    throw new MigrationsDirError(
      `migrations.dir "${dir}" does not exist on ${mainRef}`,
      "Fix migrations.dir in mai-gate.yaml (a path from the repository root), or commit the directory to main.",
    );
  }
  const trees = await scanner.treesAt(refs.map(([, sha]) => sha));
  const present = [...trees.values()].filter((t): t is string => t !== null);
  const cache = storedAddedEntries(store, dir, ws.logger, () => ws.clock.now());
  const added = await scanner.addedOver(mainScan.tree, present, cache);
  const branches: RefCatalog[] = [];
  for (const [ref, sha] of refs) {
    const tree = trees.get(sha);
    if (!tree) continue;
    const key = `${tree}+${mainScan.tree}`;
    branches.push({ ref, sha, catalog: ws.catalog(key, added.get(tree) ?? [], config.migrations) });
  }
  return {
    main: {
      ref: mainRef,
      sha: mainSha,
      catalog: ws.catalog(mainScan.tree, mainScan.entries, config.migrations),
    },
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
