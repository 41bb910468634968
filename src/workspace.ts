import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { formatBytes } from "./bounded-read.js";
import { type Clock, systemClock } from "./clock.js";
import type { LoadedConfig } from "./config/load.js";
import { MAIN_CANDIDATES } from "./config/main-ref.js";
import type { Deps, View } from "./deps.js";
import type { ScratchEngine } from "./dryrun/engine.js";
import { ConfigError } from "./errors.js";
import { readBlobs } from "./git/blobs.js";
import { createGit, type Git } from "./git/git.js";
import {
  type RefSnapshot,
  type RepoInfo,
  readRefs,
  repoInfo,
  showFile,
  showFileBounded,
} from "./git/repo.js";
import { DirScanner, type TreeEntry } from "./git/tree-scan.js";
import { type Identity, type Role, resolveIdentity, workerOfBranch } from "./identity.js";
import { type Logger, silentLogger } from "./log.js";
import { type Catalog, catalogFromTree } from "./migrations/catalog.js";
import type { LayoutSpec } from "./migrations/layout.js";
import { createPgProduction, type PgProductionOptions, type ProductionSource } from "./prod/history.js";
import type { StateStore } from "./store/types.js";
import { SuiteJobs } from "./suite/jobs.js";

export type { View } from "./deps.js";

export interface WorkspaceOptions {
  /** The worker's worktree (the server's cwd). */
  cwd: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  logger?: Logger;
  /** `--config PATH`: read this file instead of mai-gate.yaml on main. */
  configPath?: string;
  git?: Git;
  openProduction?: (options: PgProductionOptions) => ProductionSource;
  openStore?: (location: string) => StateStore | Promise<StateStore>;
  /** HTTP mode: the caller is who its bearer token says, not the environment or a branch. */
  identity?: { worker: string; role: Role };
}

/**
 * Everything a service needs from the place the server runs, resolved lazily and cached where the
 * cache key cannot go stale (config by main's commit, scans by object id). A failure here (no
 * repository, a broken config) is thrown to the caller as a clear error and retried next call.
 */
export class Workspace implements Deps {
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly git: Git;
  /** Suite jobs running in this server process. */
  readonly suiteJobs = new SuiteJobs();
  private readonly options: WorkspaceOptions;
  private repoInfo: RepoInfo | undefined;
  private configCache: { key: string; loaded: LoadedConfig } | undefined;
  private readonly stores = new Map<string, Promise<StateStore>>();
  private readonly productions = new Map<string, ProductionSource>();
  private readonly scanners = new Map<string, DirScanner>();
  private readonly catalogs = new Map<string, Catalog>();
  private readonly blobs = new Map<string, string>();
  private readonly engines = new Map<string, Promise<ScratchEngine>>();
  private started: Promise<void> | undefined;

  constructor(options: WorkspaceOptions) {
    this.options = options;
    this.cwd = options.cwd;
    this.env = options.env ?? process.env;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
    this.git = options.git ?? createGit(options.cwd);
  }

  async repo(): Promise<RepoInfo> {
    this.repoInfo ??= await repoInfo(this.git);
    return this.repoInfo;
  }

  /** Refs, config and identity as of now. */
  async view(): Promise<View> {
    const repo = await this.repo();
    const refs = await readRefs(this.git);
    const loaded = await this.config(refs);
    const fixed = this.options.identity;
    const identity: Identity = fixed
      ? { role: fixed.role, worker: fixed.worker, source: "token", branch: null }
      : resolveIdentity(this.env, refs.head);
    return { repo, refs, loaded, identity };
  }

  /** The same view with refs re-read (after a fetch). */
  async refreshed(view: View): Promise<View> {
    const refs = await readRefs(this.git);
    return { ...view, refs, loaded: await this.config(refs) };
  }

  async config(refs: RefSnapshot): Promise<LoadedConfig> {
    // The YAML parser and the schema load with the first config read, not at start-up.
    const { CONFIG_FILE, CONFIG_MAX_BYTES, loadConfigFile, parseConfig } = await import("./config/load.js");
    if (this.options.configPath) {
      const path = resolve(this.cwd, this.options.configPath);
      return loadConfigFile(path, this.env);
    }
    const named = this.env.MAI_GATE_MAIN?.trim();
    if (named && workerOfBranch(named)) {
      throw new ConfigError(
        "",
        `MAI_GATE_MAIN=${named} names a worker branch: the config is read from main only`,
        {
          hint: "Unset MAI_GATE_MAIN, or set it to main's ref (origin/main); a branch cannot choose its own gate.",
        },
      );
    }
    const candidates = (named ? [named] : MAIN_CANDIDATES).filter((ref) => refs.refs.has(ref));
    if (candidates.length === 0) {
      throw new ConfigError(
        "",
        `cannot find the main branch (${named ?? MAIN_CANDIDATES.join(", ")}) to read ${CONFIG_FILE} from`,
        {
          hint: "Fetch main (git fetch origin), set MAI_GATE_MAIN to main's ref, or pass --config PATH.",
        },
      );
    }
    for (const ref of candidates) {
      const sha = refs.refs.get(ref)!;
      const key = `${ref}@${sha}`;
      if (this.configCache?.key === key) return this.configCache.loaded;
      const shown = await showFileBounded(this.git, sha, CONFIG_FILE, CONFIG_MAX_BYTES, 10_000);
      if (!shown.ok && shown.reason === "missing") continue;
      if (!shown.ok) {
        throw new ConfigError(
          "",
          shown.reason === "too_large"
            ? `${CONFIG_FILE} on ${ref} is ${shown.size} bytes, over the limit of ${formatBytes(CONFIG_MAX_BYTES)}`
            : `${CONFIG_FILE} on ${ref} is a ${shown.type}, not a file`,
          { hint: `Commit a ${CONFIG_FILE} of a few KiB to main (see examples/mai-gate.yaml).` },
        );
      }
      const loaded = parseConfig(shown.text, this.env, { kind: "git", ref, sha });
      const distrust = named ? await this.mainDisagrees(refs, named) : null;
      const marked = distrust ? { ...loaded, distrust } : loaded;
      this.configCache = { key, loaded: marked };
      return marked;
    }
    throw new ConfigError("", `no ${CONFIG_FILE} on ${candidates.join(" or ")}`, {
      hint: `Commit ${CONFIG_FILE} to main (see examples/mai-gate.yaml), or pass --config PATH.`,
    });
  }

  /**
   * With MAI_GATE_MAIN set: the conventional main (origin/main, main, …) exists and its own config
   * names another ref as main. Then the config read is not main's, whatever it says about itself.
   */
  private async mainDisagrees(refs: RefSnapshot, named: string): Promise<string | null> {
    const { CONFIG_FILE, parseConfig } = await import("./config/load.js");
    const usual = MAIN_CANDIDATES.find((ref) => ref !== named && refs.refs.has(ref));
    if (!usual) return null;
    const text = await showFile(this.git, refs.refs.get(usual)!, CONFIG_FILE);
    if (text === null) return null;
    let says: string;
    try {
      says = parseConfig(text, this.env, { kind: "git", ref: usual, sha: refs.refs.get(usual)! }).config
        .main_branch;
    } catch {
      return `MAI_GATE_MAIN=${named}, and ${CONFIG_FILE} on ${usual} cannot be read to confirm it`;
    }
    if (says === named || refs.refs.get(says) === refs.refs.get(named)) return null;
    return `MAI_GATE_MAIN=${named}, but ${CONFIG_FILE} on ${usual} names ${says} as main`;
  }

  /** Where state lives: MAI_GATE_STATE, else the config's `state`, else the git common dir. */
  async stateLocation(loaded: LoadedConfig | null): Promise<string> {
    const explicit = this.env.MAI_GATE_STATE?.trim() || loaded?.config.state;
    if (explicit && isPostgres(explicit)) return explicit;
    if (explicit) return isAbsolute(explicit) ? explicit : resolve((await this.repo()).root, explicit);
    return join((await this.repo()).commonDir, "mai-gate", "state.db");
  }

  /** Where PGlite's template snapshots live: `pglite/` beside the state file (a server state: the git common dir). */
  async pgliteSnapshotDir(loaded: LoadedConfig | null): Promise<string> {
    const location = await this.stateLocation(loaded);
    const base = isPostgres(location) ? join((await this.repo()).commonDir, "mai-gate") : dirname(location);
    return join(base, "pglite");
  }

  /** The state store: SQLite by default, PostgreSQL when the location is a postgres:// DSN. */
  async store(loaded: LoadedConfig | null): Promise<StateStore> {
    const location = await this.stateLocation(loaded);
    let store = this.stores.get(location);
    if (!store) {
      // The engines load when first used: a command that needs no store or server never imports them.
      const open =
        this.options.openStore ??
        (async (where: string) =>
          isPostgres(where)
            ? (await import("./store/postgres.js")).openPostgresStore(where, { logger: this.logger })
            : (await import("./store/sqlite.js")).openSqliteStore(where));
      store = Promise.resolve(open(location));
      this.stores.set(location, store);
      store.catch(() => this.stores.delete(location));
    }
    return store;
  }

  /** Production's history reader, or null when `prod.dsn` is not configured (or its env var unset). */
  production(loaded: LoadedConfig): ProductionSource | null {
    const { prod, migrations } = loaded.config;
    if (!prod.dsn) return null;
    const key = JSON.stringify([prod, migrations.history_format, migrations.history_table]);
    let source = this.productions.get(key);
    if (!source) {
      source = (this.options.openProduction ?? createPgProduction)({
        dsn: prod.dsn,
        format: migrations.history_format,
        ...(migrations.history_table ? { table: migrations.history_table } : {}),
        connectTimeoutMs: prod.connect_timeout_ms,
        statementTimeoutMs: prod.statement_timeout_ms,
      });
      this.productions.set(key, source);
    }
    return source;
  }

  /** Where data probes read: `prod.probe_dsn` (a replica), else production's own read-only source. */
  probeSource(loaded: LoadedConfig): ProductionSource | null {
    const { prod, migrations } = loaded.config;
    if (!prod.probe && !prod.probe_dsn) return null;
    if (!prod.probe_dsn) return this.production(loaded);
    const key = JSON.stringify(["probe", prod.probe_dsn, prod.connect_timeout_ms, prod.probe_timeout_ms]);
    let source = this.productions.get(key);
    if (!source) {
      source = (this.options.openProduction ?? createPgProduction)({
        dsn: prod.probe_dsn,
        format: migrations.history_format,
        ...(migrations.history_table ? { table: migrations.history_table } : {}),
        connectTimeoutMs: prod.connect_timeout_ms,
        statementTimeoutMs: prod.probe_timeout_ms,
      });
      this.productions.set(key, source);
    }
    return source;
  }

  /** The catalog of a directory tree; a tree id and a layout always give the same catalog. */
  catalog(tree: string, entries: TreeEntry[], spec: LayoutSpec): Catalog {
    const key = `${tree}:${spec.layout}:${spec.pattern ?? ""}:${spec.width ?? ""}:${spec.template ?? ""}:${spec.duplicates ?? ""}`;
    let catalog = this.catalogs.get(key);
    if (!catalog) {
      catalog = catalogFromTree(entries, spec);
      if (this.catalogs.size > 5000) this.catalogs.clear();
      this.catalogs.set(key, catalog);
    }
    return catalog;
  }

  /**
   * The scratch engine for dry runs: the configured server, or embedded PGlite. Created once; the
   * janitor removes leftovers of crashed runs when it is first made.
   */
  async scratchEngine(loaded: LoadedConfig): Promise<ScratchEngine> {
    const dsn = loaded.config.scratch.dsn;
    const key = JSON.stringify([dsn ?? "pglite", loaded.config.scratch.admin_dsn, loaded.config.prod.dsn]);
    let pending = this.engines.get(key);
    if (!pending) {
      pending = (async () => {
        if (!dsn) {
          const { createSnapshotStore } = await import("./dryrun/pglite-snapshots.js");
          return (await import("./dryrun/pglite-engine.js")).createPgliteEngine({
            logger: this.logger,
            snapshots: createSnapshotStore(await this.pgliteSnapshotDir(loaded)),
          });
        }
        const { scratch, prod } = loaded.config;
        const { refuseScratchOnProduction } = await import("./dryrun/safety.js");
        await refuseScratchOnProduction(dsn, prod.dsn, {
          allowProductionServer: scratch.allow_production_server,
        });
        if (scratch.admin_dsn)
          await refuseScratchOnProduction(scratch.admin_dsn, prod.dsn, {
            allowProductionServer: scratch.allow_production_server,
          });
        const engine = (await import("./dryrun/pg-engine.js")).createPgEngine({
          dsn,
          adminDsn: scratch.admin_dsn,
          allowSuperuser: scratch.allow_superuser,
          keep: scratch.keep,
          logger: this.logger,
        });
        await engine.verifyRole();
        const removed = await engine.janitor();
        if (removed.length > 0) this.logger.info({ removed }, "removed leftover scratch databases");
        return engine;
      })();
      this.engines.set(key, pending);
      pending.catch(() => this.engines.delete(key));
    }
    return pending;
  }

  /**
   * Once per workspace, by its first tool call rather than at start-up (a server at rest loads no
   * store or engine): runs of dead processes are marked interrupted, and a configured scratch server
   * is connected so its janitor removes what crashed runs left. A failure is logged and the next
   * call tries again; the tools report the problem when they need the part.
   */
  startup(): Promise<void> {
    this.started ??= this.startupChecks();
    return this.started;
  }

  private async startupChecks(): Promise<void> {
    try {
      const { loaded } = await this.view();
      const store = await this.store(loaded);
      const interrupted = await store.interruptSuiteRuns(isAlive, this.clock.now());
      if (interrupted.length > 0)
        this.logger.info({ interrupted }, "suite runs of dead processes marked interrupted");
      // The janitor may wait on the scratch server: the first call does not wait for it.
      if (loaded.config.scratch.dsn)
        void this.scratchEngine(loaded).catch((err: unknown) =>
          this.logger.debug({ err }, "scratch engine not started"),
        );
    } catch (err) {
      this.started = undefined;
      this.logger.debug({ err }, "startup checks skipped");
    }
  }

  /** Shutdown: cancels running suite jobs, kills their processes, and records them as interrupted. */
  async interruptJobs(): Promise<void> {
    const running = this.suiteJobs.all().filter((j) => j.run.state === "running");
    if (running.length === 0) return;
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((j) => j.done));
    const store = await this.store((await this.view()).loaded);
    for (const job of running) {
      job.run.state = "interrupted";
      job.run.finishedAt = this.clock.now();
      await store.saveSuiteRun(job.run, {
        actor: "mai-gate",
        role: "server",
        action: "suite.interrupt",
        subject: job.run.id,
      });
    }
  }

  /** Text of git blobs by object id, read in one process and cached (ids never change meaning). */
  async blobTexts(oids: string[]): Promise<Map<string, string>> {
    const missing = oids.filter((oid) => !this.blobs.has(oid));
    if (missing.length > 0) {
      for (const [oid, body] of await readBlobs(this.git, missing))
        this.blobs.set(oid, body.toString("utf8"));
    }
    return new Map(oids.map((oid) => [oid, this.blobs.get(oid) ?? ""]));
  }

  scanner(dir: string): DirScanner {
    let scanner = this.scanners.get(dir);
    if (!scanner) {
      scanner = new DirScanner(this.git, dir);
      this.scanners.set(dir, scanner);
    }
    return scanner;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.engines.values()].map(async (e) => (await e).close()));
    this.engines.clear();
    await Promise.allSettled([...this.productions.values()].map((p) => p.close()));
    await Promise.allSettled([...this.stores.values()].map(async (s) => (await s).close()));
    this.productions.clear();
    this.stores.clear();
  }
}

/** Whether a process exists (a run recorded as running by a dead process was interrupted). */
function isAlive(pid: number, host: string | null): boolean {
  // Only this host's processes can be checked; another host's run is presumed alive.
  if (host !== null && host !== hostname()) return true;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isPostgres(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}
