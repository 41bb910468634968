import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Deps } from "../deps.js";
import { showFile } from "../git/repo.js";
import { sha256 } from "../hash.js";
import { forwardEntries } from "../migrations/catalog.js";
import { appliedVersions, type HistoryRow } from "../prod/history.js";
import type { RepoState } from "../repo/state.js";
import {
  BaselineError,
  checkPgDumpAgainst,
  dumpSchema,
  pgDumpMajor,
  restorableDump,
  stripPsqlMeta,
} from "./pgdump.js";

/** What resolving a baseline uses of `Deps`. */
export type BaselineDeps = Pick<Deps, "blobTexts" | "clock" | "git" | "production" | "repo">;

/** A migration from main, with its text. */
export interface MainMigration {
  path: string;
  version: number;
  name: string;
  sha256: string;
  text: string;
}

/** The schema a dry run starts from, and main's migrations to apply on top of it. */
export interface Baseline {
  kind: "prod" | "file" | "replay";
  /** Content key: equal ids mean the same starting schema. */
  id: string;
  description: string;
  /** Schema SQL to restore on an empty database; null for replay. */
  schemaSql: string | null;
  /** Main's migrations the baseline does not have yet, in version order (they run on the next deploy). */
  pending: MainMigration[];
  /** Every forward migration on main, for explanations. */
  main: MainMigration[];
  notes: string[];
  /**
   * Statements run on the empty database before the baseline, by `scratch.admin_dsn` when set: the
   * configured prelude (replay and file baselines) and the extensions a schema dump creates.
   */
  prelude: string[];
  /** The role clones run as (part of every template key: a template is owned by its builder). */
  runner: string;
}

interface DumpMeta {
  takenAt: number;
  history: HistoryRow[];
}

/**
 * Resolves the configured baseline. `prod` prefers a fresh dump, then a cached one, then replay;
 * each fallback is said in `notes`. `file:PATH` is read from main, like the config.
 */
export async function resolveBaseline(ws: BaselineDeps, state: RepoState): Promise<Baseline> {
  const main = await mainMigrations(ws, state);
  const configured = state.config.scratch.baseline;
  const chosen =
    configured === "replay"
      ? replay(main, [])
      : configured.startsWith("file:")
        ? await fromFile(ws, state, configured.slice(5), main)
        : await fromProduction(ws, state, main);
  const configuredPrelude = chosen.kind === "prod" ? [] : await preludeOf(ws, state);
  return {
    ...chosen,
    prelude: [...configuredPrelude, ...extensionStatements(chosen.schemaSql)],
    runner: runnerOf(state.config.scratch.dsn),
  };
}

/** `scratch.prelude`: statements, or `file:PATH` read from main like the config. */
async function preludeOf(ws: BaselineDeps, state: RepoState): Promise<string[]> {
  const out: string[] = [];
  for (const entry of state.config.scratch.prelude) {
    if (!entry.startsWith("file:")) {
      out.push(entry);
      continue;
    }
    const path = entry.slice(5);
    const text = await showFile(ws.git, state.main.sha, path);
    if (text === null)
      throw new BaselineError(`scratch.prelude names ${path}, which is not on ${state.main.ref}`, {
        hint: "Commit the file to main at that path, or write the statements into scratch.prelude.",
      });
    out.push(text);
  }
  return out;
}

const EXTENSION = /^CREATE EXTENSION (?:IF NOT EXISTS )?[^;]+;$/gm;

/** The `CREATE EXTENSION` lines of a schema dump: they need the admin connection when one is set. */
export function extensionStatements(schemaSql: string | null): string[] {
  if (!schemaSql) return [];
  return [...schemaSql.matchAll(EXTENSION)].map((m) =>
    m[0].replace(/^CREATE EXTENSION (?!IF NOT EXISTS)/, "CREATE EXTENSION IF NOT EXISTS "),
  );
}

/** The role a scratch DSN logs in as (what owns its templates), or `pglite` for the embedded engine. */
export function runnerOf(dsn: string | undefined): string {
  if (!dsn) return "pglite";
  try {
    return decodeURIComponent(new URL(dsn).username) || "(default user)";
  } catch {
    return "(unparseable dsn)";
  }
}

async function mainMigrations(ws: BaselineDeps, state: RepoState): Promise<MainMigration[]> {
  const entries = forwardEntries(state.main.catalog);
  const texts = await ws.blobTexts(entries.map((e) => e.oid ?? ""));
  return entries.map((e) => {
    const text = texts.get(e.oid ?? "") ?? "";
    return {
      path: posix.join(state.config.migrations.dir, e.file),
      version: e.version,
      name: e.name,
      sha256: sha256(text),
      text,
    };
  });
}

function replay(main: MainMigration[], notes: string[]): Baseline {
  return {
    kind: "replay",
    id: sha256("replay:v1"),
    description: `replay of main's ${main.length} migration(s) on an empty database`,
    schemaSql: null,
    pending: main,
    main,
    notes,
    prelude: [],
    runner: "",
  };
}

function pendingAfter(
  main: MainMigration[],
  history: HistoryRow[],
  format: RepoState["config"]["migrations"]["history_format"],
) {
  const maxVersion = history.length > 0 ? Math.max(...history.map((r) => r.version)) : null;
  const applied = appliedVersions({
    format,
    table: "",
    rows: history,
    namesKnown: false,
    maxVersion,
    dirty: false,
  });
  return main.filter((m) => !applied(m.version));
}

async function fromFile(
  ws: BaselineDeps,
  state: RepoState,
  path: string,
  main: MainMigration[],
): Promise<Baseline> {
  const text = await showFile(ws.git, state.main.sha, path);
  if (text === null) {
    throw new BaselineError(`scratch.baseline names ${path}, which is not on ${state.main.ref}`, {
      hint: "Commit the schema dump to main at that path, or use scratch.baseline: prod or replay.",
    });
  }
  const notes: string[] = [];
  let pending: MainMigration[] = [];
  if (state.production.status === "checked") {
    pending = pendingAfter(main, state.production.history.rows, state.production.history.format);
  } else {
    notes.push(
      "production was not read: the schema file is taken as current and no pending migration of main is applied",
    );
  }
  return {
    kind: "file",
    id: sha256(`file:${text}`),
    description: `schema file ${path} on ${state.main.ref}`,
    schemaSql: stripPsqlMeta(text),
    pending,
    main,
    notes,
    prelude: [],
    runner: "",
  };
}

async function fromProduction(ws: BaselineDeps, state: RepoState, main: MainMigration[]): Promise<Baseline> {
  const dir = join((await ws.repo()).commonDir, "mai-gate", "baselines");
  const { scratch, migrations } = state.config;
  const maxAgeMs = scratch.baseline_max_age_minutes * 60_000;
  const p = state.production;
  if (p.status === "checked") {
    const file = join(dir, `prod-${sha256(JSON.stringify(p.history.rows)).slice(0, 16)}.sql`);
    let dump = await readFresh(file, ws.clock.now() - maxAgeMs);
    if (dump === null) {
      // Gates judged side by side (the head's review) ask at once: one dump answers them all.
      let taking = dumping.get(file);
      if (!taking) {
        const rows = p.history.rows;
        taking = takeDump(ws, state).then(async (taken) => {
          await mkdir(dir, { recursive: true });
          const meta: DumpMeta = { takenAt: ws.clock.now(), history: rows };
          await writeAtomic(`${file}.json`, JSON.stringify(meta));
          await writeAtomic(file, taken);
          return taken;
        });
        dumping.set(file, taking);
        void taking.finally(() => dumping.delete(file)).catch(() => undefined);
      }
      dump = await taking;
    }
    return prodBaseline(
      dump,
      pendingAfter(main, p.history.rows, migrations.history_format),
      main,
      "fresh",
      [],
    );
  }
  const cached = await newestDump(dir);
  const why =
    p.status === "unreachable"
      ? `production is unreachable (${p.error})`
      : `production is not configured (${p.reason})`;
  if (cached) {
    const note = `${why}: used the dump taken ${new Date(cached.meta.takenAt).toISOString()}`;
    const pending = pendingAfter(main, cached.meta.history, migrations.history_format);
    return prodBaseline(cached.dump, pending, main, "cached", [note]);
  }
  return replay(main, [
    `${why} and no earlier dump is cached: replayed main's migrations instead (objects made by hand in production are not represented)`,
  ]);
}

/**
 * A dump's identity: its SQL without psql's meta-commands. pg_dump writes `\restrict` with a random
 * key into every plain dump, so two dumps of one unchanged schema differ in that line only; a
 * re-dump after `scratch.baseline_max_age_minutes` must not void every dry run made on the first.
 */
export function dumpId(dump: string): string {
  return sha256(`prod:${stripPsqlMeta(dump)}`);
}

function prodBaseline(
  dump: string,
  pending: MainMigration[],
  main: MainMigration[],
  age: string,
  notes: string[],
): Baseline {
  return {
    kind: "prod",
    id: dumpId(dump),
    description: `schema-only pg_dump of production (${age}), plus ${pending.length} pending migration(s) of main`,
    schemaSql: restorableDump(dump),
    pending,
    main,
    notes,
    prelude: [],
    runner: "",
  };
}

async function takeDump(ws: BaselineDeps, state: RepoState): Promise<string> {
  const { prod, scratch } = state.config;
  const source = ws.production(state.view.loaded);
  if (!source || !prod.dsn)
    throw new BaselineError("production is not configured", { hint: "Set prod.dsn." });
  const [binary, server] = await Promise.all([pgDumpMajor(scratch.pg_dump), source.serverVersionNum()]);
  checkPgDumpAgainst(binary, server);
  return dumpSchema(scratch.pg_dump, prod.dsn, {
    timeoutMs: 120_000,
    statementTimeoutMs: prod.statement_timeout_ms * 12,
    connectTimeoutMs: prod.connect_timeout_ms,
  });
}

async function readFresh(file: string, notBefore: number): Promise<string | null> {
  try {
    const meta = JSON.parse(await readFile(`${file}.json`, "utf8")) as DumpMeta;
    if (meta.takenAt < notBefore) return null;
    return await readFile(file, "utf8");
  } catch {
    return null;
  }
}

async function newestDump(dir: string): Promise<{ dump: string; meta: DumpMeta } | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^prod-[0-9a-f]+\.sql$/.test(n));
  } catch {
    return null;
  }
  const dated = await Promise.all(names.map(async (n) => ({ n, at: (await stat(join(dir, n))).mtimeMs })));
  const newest = dated.sort((a, b) => b.at - a.at)[0];
  if (!newest) return null;
  const file = join(dir, newest.n);
  const meta = JSON.parse(await readFile(`${file}.json`, "utf8")) as DumpMeta;
  return { dump: await readFile(file, "utf8"), meta };
}

/** Dumps being taken in this process, by file: concurrent callers share one. */
const dumping = new Map<string, Promise<string>>();

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export { mainFailureMeaning } from "./meaning.js";
