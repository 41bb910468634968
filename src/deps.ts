import type { Clock } from "./clock.js";
import type { LoadedConfig } from "./config/load.js";
import type { ScratchEngine } from "./dryrun/engine.js";
import type { Git } from "./git/git.js";
import type { RefSnapshot, RepoInfo } from "./git/repo.js";
import type { DirScanner, TreeEntry } from "./git/tree-scan.js";
import type { Identity } from "./identity.js";
import type { Logger } from "./log.js";
import type { Catalog } from "./migrations/catalog.js";
import type { LayoutSpec } from "./migrations/layout.js";
import type { ProductionSource } from "./prod/history.js";
import type { StateStore } from "./store/types.js";
import type { SuiteJobs } from "./suite/jobs.js";

/** What one call sees: the repository, its refs at this moment, the config from main, the caller. */
export interface View {
  repo: RepoInfo;
  refs: RefSnapshot;
  loaded: LoadedConfig;
  identity: Identity;
}

/**
 * What services may use from the place the server runs. `Workspace` (src/workspace.ts) is the one
 * implementation: it builds each part lazily and owns its caches. A service names only the parts
 * it uses (`Pick<Deps, "git" | "view">`), so its dependencies are visible in its signature and a
 * test can hand it exactly those.
 */
export interface Deps {
  /** The worker's worktree (the server's cwd). */
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly git: Git;
  /** Suite jobs running in this server process. */
  readonly suiteJobs: SuiteJobs;
  repo(): Promise<RepoInfo>;
  /** The repository, refs, config from main and caller, read now (config cached by main's commit). */
  view(): Promise<View>;
  /** `view` again after a fetch changed the refs. */
  refreshed(view: View): Promise<View>;
  config(refs: RefSnapshot): Promise<LoadedConfig>;
  stateLocation(loaded: LoadedConfig | null): Promise<string>;
  pgliteSnapshotDir(loaded: LoadedConfig | null): Promise<string>;
  /** The state store (SQLite, or PostgreSQL for a postgres:// location), opened once. */
  store(loaded: LoadedConfig | null): Promise<StateStore>;
  /** Production's history reader, or null when `prod.dsn` is not configured. */
  production(loaded: LoadedConfig): ProductionSource | null;
  /**
   * Where data probes read (`prod.probe_dsn`, else production's read-only connection), or null when
   * probes are off (`prod.probe` false and no `probe_dsn`) or nothing is configured.
   */
  probeSource(loaded: LoadedConfig): ProductionSource | null;
  /** The catalog of a directory tree; a tree id and a layout always give the same catalog. */
  catalog(tree: string, entries: TreeEntry[], spec: LayoutSpec): Catalog;
  /** The scratch engine the config names, fenced off production, made once. */
  scratchEngine(loaded: LoadedConfig): Promise<ScratchEngine>;
  blobTexts(oids: string[]): Promise<Map<string, string>>;
  scanner(dir: string): DirScanner;
}
