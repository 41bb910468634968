import { posix } from "node:path";
import { parseConfig } from "../../src/config/load.js";
import type { GateFacts } from "../../src/gate/facts.js";
import type { AddedMigration, EditedMigration } from "../../src/gate/migrations.js";
import type { GateTarget } from "../../src/gate/target.js";
import { gitBlobId } from "../../src/hash.js";
import { buildCatalog } from "../../src/migrations/catalog.js";
import { parseFileName } from "../../src/migrations/layout.js";
import { branchAddsOf, type RefCatalog, type RepoState } from "../../src/repo/state.js";
import type { LeaseRow, StateStore } from "../../src/store/types.js";

/**
 * Facts for the pure verdict functions, built from plain descriptions: no repository, no store,
 * no server. File contents default to their name, so equal names mean equal blob ids.
 */
export const DIR = "db/migrations";
export const NOW = 1_800_000_000_000;
/** The judged HEAD of `facts()` unless a test names another. */
export const HEAD = "h".repeat(40);

type Files = Record<string, string> | string[];

const asFiles = (files: Files): Record<string, string> =>
  Array.isArray(files) ? Object.fromEntries(files.map((f) => [f, `-- ${f}\n`])) : files;

function refCatalog(ref: string, files: Files, config: RepoState["config"]): RefCatalog {
  const entries = Object.entries(asFiles(files)).map(([file, text]) => ({ file, oid: gitBlobId(text) }));
  return { ref, sha: gitBlobId(ref), catalog: buildCatalog(entries, config.migrations) };
}

export interface StateSpec {
  main: Files;
  branches?: Record<string, Files>;
  /** Production's applied rows; "unreachable"; or null for not configured. */
  production?: [number, string][] | "unreachable" | null;
  /** golang-migrate's one-row history at this version (production's rows are then ignored). */
  golangMigrateAt?: number;
  migrations?: Record<string, unknown>;
  config?: Record<string, unknown>;
  branch?: string | null;
  /** Where origin has the judged branch: default the facts' HEAD (pushed); null for never pushed. */
  pushedAt?: string | null;
}

export function repoState(spec: StateSpec): RepoState {
  const yaml = JSON.stringify({
    migrations: { dir: DIR, ...(spec.migrations ?? {}) },
    ...(spec.config ?? {}),
  });
  const loaded = parseConfig(yaml, {}, { kind: "git", ref: "origin/main", sha: "m".repeat(40) });
  const config = loaded.config;
  const main = refCatalog("origin/main", spec.main, config);
  const branches = Object.entries(spec.branches ?? {}).map(([ref, files]) => refCatalog(ref, files, config));
  const p = spec.production === undefined ? [] : spec.production;
  const production: RepoState["production"] =
    p === null
      ? { status: "not_configured", reason: "prod.dsn is not configured" }
      : p === "unreachable"
        ? { status: "unreachable", error: "connect ECONNREFUSED 127.0.0.1:5" }
        : spec.golangMigrateAt !== undefined
          ? {
              status: "checked",
              history: {
                format: "golang-migrate",
                table: "schema_migrations",
                rows: [{ version: spec.golangMigrateAt, name: null }],
                namesKnown: false,
                maxVersion: spec.golangMigrateAt,
                dirty: false,
              },
            }
          : {
              status: "checked",
              history: {
                format: "rows",
                table: "paliad.applied_migrations",
                rows: p.map(([version, name]) => ({ version, name })),
                namesKnown: true,
                maxVersion: p.length > 0 ? Math.max(...p.map(([v]) => v)) : null,
                dirty: false,
              },
            };
  const branch = spec.branch === undefined ? "mai/ann/task" : spec.branch;
  return {
    view: {
      repo: { root: "/nowhere", commonDir: "/nowhere/.git" },
      refs: {
        refs: new Map([
          ["origin/main", main.sha],
          ...(branch && spec.pushedAt !== null
            ? [[`origin/${branch}`, spec.pushedAt ?? HEAD] as [string, string]]
            : []),
        ]),
        remote: new Set(["origin/main"]),
        head: branch,
        key: "",
      },
      loaded,
      identity: { role: "worker", worker: "ann", source: "branch", branch },
    },
    config,
    store: {} as StateStore,
    fetch: { status: "skipped", reason: "test" },
    main,
    branches,
    branchAdds: branchAddsOf(main, branches),
    production,
  };
}

/** A new file on the judged branch (its content defaults to its name, like the fixtures' files). */
export function added(file: string, text = `-- ${file}\n`, mode = "100644"): AddedMigration {
  const outcome = parseFileName(file, { layout: "numbered" });
  return {
    path: posix.join(DIR, file),
    parsed: outcome?.ok ? outcome.parsed : null,
    unparsed: outcome && !outcome.ok ? { reason: outcome.reason, version: outcome.version } : null,
    mode,
    oid: gitBlobId(text),
  };
}

export function lease(version: number, name: string, worker = "ann", over: Partial<LeaseRow> = {}): LeaseRow {
  return {
    id: `L${worker}${version}`,
    version,
    name,
    requestName: name,
    seq: 1,
    files: [posix.join(DIR, `${version}_${name}.sql`)],
    worker,
    branch: `mai/${worker}/task`,
    createdAt: NOW - 1000,
    expiresAt: NOW + 3_600_000,
    endedAt: null,
    endReason: null,
    endedBy: null,
    endNote: null,
    prodChecked: true,
    movedTo: null,
    ...over,
  };
}

export interface FactsSpec {
  state: RepoState;
  added?: AddedMigration[];
  edited?: EditedMigration[];
  leases?: LeaseRow[];
  scope?: GateFacts["scope"];
  target?: Partial<GateTarget>;
  records?: GateFacts["records"];
}

export function facts(spec: FactsSpec): GateFacts {
  const branch = spec.state.view.identity.branch;
  const target: GateTarget = {
    kind: "worktree",
    worker: "ann",
    branch,
    head: HEAD,
    tree: "t".repeat(40),
    dirty: false,
    dirtyPaths: [],
    hidden: [],
    ...spec.target,
  };
  const addedFiles = spec.added ?? [];
  return {
    scope: spec.scope ?? "ci",
    state: spec.state,
    trust: { fromMain: true, source: "mai-gate.yaml on origin/main", reason: null },
    target,
    changes: { added: addedFiles, edited: spec.edited ?? [] },
    contents: new Map(addedFiles.map((f) => [f.path, `sha-of-${f.oid}`])),
    leases: spec.leases ?? [],
    now: NOW,
    records: spec.records ?? null,
  };
}
