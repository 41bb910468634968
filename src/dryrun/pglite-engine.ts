import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { errorMessage } from "../errors.js";
import { sha256 } from "../hash.js";
import { type Logger, silentLogger } from "../log.js";
import {
  type ScratchEngine,
  ScratchError,
  type ScratchSession,
  type TemplateOutcome,
  type TemplateSpec,
} from "./engine.js";
import { extensionSet, pgliteExtensions } from "./pglite-extensions.js";
import type { SnapshotStore } from "./pglite-snapshots.js";

/**
 * Scratch databases inside this process: templates and clones are PGlite instances, and a clone is
 * `template.clone()` (a copy of its data directory, ~0.6 s). Templates are kept per set of loaded
 * extensions (PGlite loads them at construction; a clone keeps its template's). With a snapshot
 * store, each template built is saved as a data-directory snapshot and a later process starts from
 * it instead of rebuilding: such a template stays the snapshot's bytes, opened once per clone (the
 * first open is the warm clone), so a new process's first dry run starts PGlite once. Nothing else
 * outlives the process, so the janitor has nothing to do. PGlite's query errors already carry pg's fields (`code`, `message`,
 * `detail`, `hint`, `position` as a string), so sessions pass them through unchanged.
 */

/** Templates kept open at most; the base and the newest are never evicted. */
const MAX_TEMPLATES = 4;

const LIMITATION =
  "Dry runs ran on embedded PGlite (PostgreSQL 18 inside this process, one session), so lock waits " +
  "against live traffic and concurrent index builds cannot be observed, and its server version may " +
  "differ from production's.";

/** A template spec with the extensions its instances load and the instance key of each step. */
interface Chain {
  spec: TemplateSpec;
  extensions: string[];
  ikeys: string[];
}

/** A template: an open instance, or the snapshot bytes it was loaded from (opened per clone). */
type Template = { db: PGlite } | { data: Blob; extensions: string[] };

interface WarmSlot {
  db: Promise<PGlite>;
  busy: boolean;
  /** Its template was evicted: close it when the current user is done. */
  retire: boolean;
}

/** One statement over the simple query protocol; PGlite's error propagates unchanged. */
function sessionOf(db: PGlite): ScratchSession {
  return {
    async query(sql) {
      const results = await db.exec(sql);
      const last = results.at(-1);
      return { rows: last?.rows ?? [], rowCount: last?.affectedRows ?? null };
    },
  };
}

async function closeQuietly(db: PGlite | Promise<PGlite>): Promise<void> {
  try {
    const instance = await db;
    if (!instance.closed) await instance.close();
  } catch {
    /* a clone that never opened, or one already gone: nothing to close */
  }
}

async function cloneOf(db: PGlite): Promise<PGlite> {
  const copy = await db.clone();
  if (copy instanceof PGlite) return copy;
  await copy.close();
  throw new ScratchError("PGlite.clone() returned an unexpected instance type");
}

/** A template's name in this engine: its content key, plus the extensions its instance loads. */
function instanceKey(key: string, extensions: string[]): string {
  return extensions.length === 0 ? key : sha256(`${key}\nextensions:${extensions.join(",")}`);
}

/** The installed PGlite's version: a snapshot is a data directory of exactly that build. */
let pgliteVersion: Promise<string> | undefined;
function installedVersion(): Promise<string> {
  pgliteVersion ??= (async () => {
    const entry = fileURLToPath(import.meta.resolve("@electric-sql/pglite"));
    const pkg = JSON.parse(await readFile(join(dirname(entry), "..", "package.json"), "utf8"));
    return String(pkg.version);
  })().catch(() => "unknown");
  return pgliteVersion;
}

/** The file name of template `key`'s snapshot: its key and the PGlite build that wrote it. */
async function snapshotName(key: string): Promise<string> {
  return sha256(`pglite-snapshot:v1\npglite:${await installedVersion()}\n${key}`);
}

export interface PgliteEngineOptions {
  logger?: Logger;
  /** Where built templates are saved for later processes; none: nothing is saved. */
  snapshots?: SnapshotStore;
}

export function createPgliteEngine(options: PgliteEngineOptions = {}): ScratchEngine {
  const log = (options.logger ?? silentLogger()).child({ engine: "pglite" });
  const snapshots = options.snapshots;
  /** Snapshot saves in flight; close() waits for them. */
  const saving = new Set<Promise<void>>();
  /** Snapshot loads in flight by instance key. */
  const loading = new Map<string, Promise<boolean>>();
  /** Insertion order is age: the oldest non-protected template is evicted first. */
  const templates = new Map<string, Template>();
  const warm = new Map<string, WarmSlot>();
  const disposables = new Set<Promise<PGlite>>();
  /** Builds in flight by key, so two concurrent calls never build the same template twice. */
  const building = new Map<string, Promise<number | "cached">>();
  let versionNum: number | undefined;

  /** A new instance with template `key`'s data: a clone of the open template, or its snapshot opened. */
  function cloneFrom(key: string): Promise<PGlite> {
    const t = templates.get(key);
    if (t && "data" in t) return open(t.extensions, t.data);
    if (!t || t.db.closed) {
      throw new ScratchError(`no PGlite template for key ${key.slice(0, 12)}`, {
        hint: "Ensure the template (ensureTemplate) before cloning it.",
      });
    }
    return cloneOf(t.db);
  }

  /** A new instance holding `extensions`, empty or from a data-directory snapshot. */
  async function open(extensions: string[], loadDataDir?: Blob): Promise<PGlite> {
    return PGlite.create({ extensions: await pgliteExtensions(extensions), loadDataDir });
  }

  async function buildKey(chain: Chain, upto: number): Promise<number | "cached"> {
    const { spec, ikeys } = chain;
    const key = ikeys[upto]!;
    if (templates.has(key)) return "cached";
    let from = -1;
    for (let i = upto - 1; i >= 0 && from < 0; i--) if (templates.has(ikeys[i]!)) from = i;
    if (upto > 0 && from < 0) throw new ScratchError("no PGlite template to build from: the base is missing");
    const db = from < 0 ? await open(chain.extensions) : await cloneFrom(ikeys[from]!);
    try {
      const session = sessionOf(db);
      if (from < 0) await spec.buildBase(session);
      for (let i = Math.max(from + 1, 1); i <= upto; i++) await spec.applyStep(session, i);
    } catch (err) {
      await closeQuietly(db);
      throw err;
    }
    templates.set(key, { db });
    return from;
  }

  /** `buildKey` for one key at a time: a second caller waits for the first build. */
  async function buildOnce(chain: Chain, upto: number): Promise<number | "cached"> {
    const key = chain.ikeys[upto]!;
    const pending = building.get(key);
    if (pending) return pending.then(() => "cached" as const);
    const started = buildKey(chain, upto);
    building.set(key, started);
    try {
      return await started;
    } finally {
      building.delete(key);
    }
  }

  /** Loads template `key` from its snapshot; false when there is none. A bad snapshot is removed. */
  async function loadSnapshot(key: string, extensions: string[], use: "warm" | "extend"): Promise<boolean> {
    if (!snapshots) return false;
    const name = await snapshotName(key);
    const data = await snapshots.load(name);
    if (!data) return false;
    let db: PGlite | undefined;
    try {
      db = await open(extensions, data);
      await db.exec("SELECT 1");
      if (use === "extend") {
        templates.set(key, { db });
        return true;
      }
      // Opened once, as the warm clone the first dry run uses: the template itself stays the bytes.
      templates.set(key, { data, extensions });
      if (!warm.has(key)) warm.set(key, { db: Promise.resolve(db), busy: false, retire: false });
      else await closeQuietly(db);
      return true;
    } catch (err) {
      if (db) await closeQuietly(db);
      log.warn({ key, err: errorMessage(err) }, "PGlite snapshot does not load: removed, rebuilding");
      await snapshots.remove(name);
      return false;
    }
  }

  function loadOnce(key: string, extensions: string[], use: "warm" | "extend"): Promise<boolean> {
    let pending = loading.get(key);
    if (!pending) {
      pending = loadSnapshot(key, extensions, use).finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  }

  /** Saves template `key` for later processes, in the background; a failure is only logged. */
  function saveSnapshot(key: string): void {
    const t = templates.get(key);
    if (!snapshots || !t || !("db" in t)) return;
    const done = t.db
      .dumpDataDir("gzip")
      .then(async (data) => snapshots.save(await snapshotName(key), data))
      .catch((err: unknown) => log.warn({ key, err: errorMessage(err) }, "PGlite snapshot not saved"))
      .finally(() => saving.delete(done));
    saving.add(done);
  }

  /** Closes the oldest templates (and their idle warm clones) beyond MAX_TEMPLATES. */
  async function evict(keep: string[]): Promise<void> {
    for (const key of [...templates.keys()]) {
      if (templates.size <= MAX_TEMPLATES) return;
      if (keep.includes(key)) continue;
      const t = templates.get(key)!;
      templates.delete(key);
      if ("db" in t) await closeQuietly(t.db);
      const slot = warm.get(key);
      if (!slot) continue;
      warm.delete(key);
      if (slot.busy) slot.retire = true;
      else await closeQuietly(slot.db);
    }
  }

  /** The deepest step below the last that is open or loads from a snapshot; -1 when none does. */
  async function savedAncestor(chain: Chain): Promise<number> {
    if (!snapshots) return -1;
    for (let i = chain.ikeys.length - 2; i >= 1; i--) {
      const key = chain.ikeys[i]!;
      if (templates.has(key) || (await loadOnce(key, chain.extensions, "extend"))) return i;
    }
    return -1;
  }

  async function ensureTemplate(spec: TemplateSpec): Promise<TemplateOutcome> {
    const started = Date.now();
    const last = spec.keys.length - 1;
    if (last < 0) throw new ScratchError("ensureTemplate needs at least one key");
    const extensions = extensionSet(spec.extensions ?? []);
    const chain: Chain = { spec, extensions, ikeys: spec.keys.map((k) => instanceKey(k, extensions)) };
    const lastKey = chain.ikeys[last]!;
    const done = (builtFrom: TemplateOutcome["builtFrom"]) => ({
      key: spec.keys[last]!,
      builtFrom,
      ms: Date.now() - started,
      instance: lastKey,
    });
    if (templates.has(lastKey)) return done("cached");
    if (!building.has(lastKey) && (await loadOnce(lastKey, extensions, "warm"))) {
      await evict([chain.ikeys[0]!, lastKey]);
      log.debug({ key: lastKey }, "PGlite template loaded from its snapshot");
      return done("snapshot");
    }
    // A later process, main one migration further: extend the deepest step an earlier one saved.
    const saved = await savedAncestor(chain);
    const baseBuilt = saved < 0 && last > 0 && (await buildOnce(chain, 0)) !== "cached";
    const from = await buildOnce(chain, last);
    if (from !== "cached") saveSnapshot(lastKey);
    await evict([chain.ikeys[0]!, lastKey]);
    log.debug({ key: lastKey, from }, "PGlite template ready");
    return done(from === 0 && baseBuilt ? -1 : from);
  }

  async function withDisposableClone<T>(
    key: string,
    fn: (session: ScratchSession) => Promise<T>,
  ): Promise<T> {
    const pending = cloneFrom(key);
    disposables.add(pending);
    try {
      return await fn(sessionOf(await pending));
    } finally {
      disposables.delete(pending);
      await closeQuietly(pending);
    }
  }

  async function withWarmClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T> {
    let slot = warm.get(key);
    if (slot?.busy) return withDisposableClone(key, fn);
    if (!slot) {
      slot = { db: cloneFrom(key), busy: false, retire: false };
      warm.set(key, slot);
    }
    slot.busy = true;
    try {
      const db = await slot.db.catch((err: unknown) => {
        if (warm.get(key) === slot) warm.delete(key);
        throw err;
      });
      try {
        return await fn(sessionOf(db));
      } finally {
        await db
          .exec("ROLLBACK")
          .catch((err: unknown) => log.debug({ err: errorMessage(err) }, "ROLLBACK failed"));
      }
    } finally {
      slot.busy = false;
      if (slot.retire) await closeQuietly(slot.db);
    }
  }

  /** An open warm clone nobody is using (a snapshot's template has no open instance of its own). */
  async function idleWarm(): Promise<PGlite | undefined> {
    for (const slot of warm.values()) {
      const db = slot.busy ? undefined : await slot.db.catch(() => undefined);
      if (db && !db.closed) return db;
    }
    return undefined;
  }

  async function serverVersionNum(): Promise<number> {
    if (versionNum !== undefined) return versionNum;
    const existing =
      [...templates.values()].flatMap((t) => ("db" in t && !t.db.closed ? [t.db] : []))[0] ??
      (await idleWarm());
    const db = existing ?? (await PGlite.create());
    try {
      const results = await db.exec("SHOW server_version_num");
      versionNum = Number(results[0]?.rows[0]?.server_version_num);
      return versionNum;
    } finally {
      if (!existing) await closeQuietly(db);
    }
  }

  return {
    kind: "pglite",
    limitations: [LIMITATION],
    serverVersionNum,
    ensureTemplate,
    withWarmClone,
    withDisposableClone,
    async janitor() {
      return [];
    },
    async close() {
      await Promise.all([...saving]);
      const all = [
        ...[...templates.values()].flatMap((t) => ("db" in t ? [t.db] : [])),
        ...[...warm.values()].map((s) => s.db),
        ...disposables,
      ];
      templates.clear();
      warm.clear();
      disposables.clear();
      await Promise.all(all.map(closeQuietly));
    },
  };
}
