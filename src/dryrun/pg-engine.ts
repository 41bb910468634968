import pg from "pg";
import { errorMessage } from "../errors.js";
import { type Logger, silentLogger } from "../log.js";
import {
  SCRATCH_PREFIX,
  type ScratchEngine,
  ScratchError,
  type ScratchSession,
  type TemplateOutcome,
  type TemplateSpec,
} from "./engine.js";
import { evict, inventory, type KeepPolicy, markUsed, type ScratchDatabase } from "./pg-evict.js";
import { checkScratchRole, inspectRole } from "./pg-role.js";
import {
  CONNECT_TIMEOUT_MS,
  connectError,
  dropScratchDatabase,
  hex,
  isLeftover,
  LOCK_SQL,
  parseDsn,
  q,
  SHARED_LOCK_SQL,
  SHARED_UNLOCK_SQL,
  sessionOf,
  TRY_LOCK_SQL,
  tag,
  templateName,
  UNLOCK_SQL,
  WARM_SLOTS,
  warmName,
} from "./pg-scratch.js";
import { runPrelude } from "./prelude.js";

/**
 * Scratch databases on a real PostgreSQL server. Templates, builds and clones are databases named
 * `maigate_*`; every claim on one is a session-level advisory lock held on its own short-lived admin
 * connection, so a crashed process releases its claims and the janitor can reclaim its leftovers.
 */

export interface PgEngineOptions {
  /** The unprivileged role the branch's files run as; it owns every clone. */
  dsn: string;
  /** Optional: runs the prelude (extensions, roles) in new base templates; never the branch's files. */
  adminDsn?: string | undefined;
  allowSuperuser?: boolean | undefined;
  keep?: KeepPolicy | undefined;
  /** Templates used within this long are never evicted (default 10 minutes). */
  pinRecentMs?: number | undefined;
  logger?: Logger;
}

export interface PgScratchEngine extends ScratchEngine {
  /** Refuses a role that could leave its clone (see pg-role.ts); its warnings join `limitations`. */
  verifyRole(): Promise<void>;
  inventory(): Promise<ScratchDatabase[]>;
}

const DEFAULT_KEEP: KeepPolicy = { templates: 8, megabytes: 2048 };

export function createPgEngine(options: PgEngineOptions): PgScratchEngine {
  const log = (options.logger ?? silentLogger()).child({ engine: "postgres" });
  const base = parseDsn(options.dsn);
  const adminBase = options.adminDsn ? parseDsn(options.adminDsn) : null;
  const address = `${base.hostname || "localhost"}:${base.port || "5432"}`;
  const open = new Set<pg.Client>();
  /** Warm names claimed in this process (advisory locks are re-entrant within one session). */
  const busy = new Set<string>();
  const limitations: string[] = [];

  async function connect(database?: string, as: "runner" | "admin" = "runner"): Promise<pg.Client> {
    const url = new URL(as === "admin" && adminBase ? adminBase : base);
    if (database !== undefined) url.pathname = `/${encodeURIComponent(database)}`;
    const client = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: "mai-gate",
    });
    client.on("error", (err) => log.warn({ database, err: errorMessage(err) }, "scratch connection dropped"));
    try {
      await client.connect();
    } catch (err) {
      throw connectError(address, err);
    }
    open.add(client);
    return client;
  }

  async function disconnect(client: pg.Client): Promise<void> {
    open.delete(client);
    await client.end().catch(() => undefined);
  }

  async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
    const admin = await connect();
    try {
      return await fn(admin);
    } finally {
      await disconnect(admin);
    }
  }

  /** A fresh admin session holding the advisory lock on `name` (waits for it). */
  async function lockOn(name: string): Promise<pg.Client> {
    const admin = await connect();
    try {
      await admin.query(LOCK_SQL, [name]);
      return admin;
    } catch (err) {
      await disconnect(admin);
      throw err;
    }
  }

  async function tryLock(admin: pg.Client, name: string): Promise<boolean> {
    const { rows } = await admin.query<{ ok: boolean }>(TRY_LOCK_SQL, [name]);
    return rows[0]?.ok === true;
  }

  /** Closing the session releases its locks; the explicit unlock just makes the release immediate. */
  async function unlock(admin: pg.Client): Promise<void> {
    await admin.query("SELECT pg_advisory_unlock_all()").catch(() => undefined);
    await disconnect(admin);
  }

  async function dropQuietly(admin: pg.Client, name: string): Promise<void> {
    try {
      await dropScratchDatabase(admin, name);
    } catch (err) {
      log.warn(
        { database: name, err: errorMessage(err) },
        "dropping a scratch database failed; the janitor retries",
      );
    }
  }

  async function exists(admin: pg.Client, names: string[]): Promise<Set<string>> {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname = ANY($1::text[])",
      [names],
    );
    return new Set(rows.map((r) => r.datname));
  }

  async function createFrom(admin: pg.Client, name: string, source: string): Promise<void> {
    const template = source !== "template0";
    try {
      if (template) await admin.query(SHARED_LOCK_SQL, [source]);
      await admin.query(`CREATE DATABASE ${q(name)} TEMPLATE ${q(source)}`);
    } catch (err) {
      const missing = (err as { code?: unknown }).code === "3D000";
      throw new ScratchError(
        missing
          ? `template database ${source} does not exist`
          : `creating scratch database ${name} from ${source} failed: ${errorMessage(err)}`,
        {
          hint: missing
            ? "Ensure the template (ensureTemplate) before cloning it."
            : "The scratch role needs CREATEDB, and nothing may be connected to the template.",
          cause: err,
        },
      );
    } finally {
      if (template) await admin.query(SHARED_UNLOCK_SQL, [source]).catch(() => undefined);
    }
  }

  /** Builds template `key` in a locked build database; on failure drops it and rethrows `work`'s error. */
  async function build(
    admin: pg.Client,
    source: string,
    key: string,
    work: (s: ScratchSession, name: string) => Promise<void>,
  ) {
    const name = `${SCRATCH_PREFIX}build_${tag(key)}_${hex(3)}`;
    await admin.query(LOCK_SQL, [name]);
    await createFrom(admin, name, source);
    try {
      const client = await connect(name);
      try {
        await work(sessionOf(client), name);
      } finally {
        await disconnect(client);
      }
      await admin
        .query(`ALTER DATABASE ${q(name)} RENAME TO ${q(templateName(key))}`)
        .catch((err: unknown) => {
          throw new ScratchError(`renaming ${name} to ${templateName(key)} failed: ${errorMessage(err)}`, {
            cause: err,
          });
        });
    } catch (err) {
      await dropQuietly(admin, name);
      throw err;
    }
  }

  /** The prelude on the admin connection (the runner's when there is none), in database `name`. */
  async function preludeIn(name: string, statements: string[]): Promise<void> {
    if (statements.length === 0) return;
    const client = await connect(name, "admin");
    try {
      await runPrelude(sessionOf(client), statements);
    } finally {
      await disconnect(client);
    }
  }

  /** Under the lock on template `keys[upto]`: re-checks, then builds it from the deepest template below. */
  async function buildLocked(spec: TemplateSpec, upto: number): Promise<number | "cached"> {
    const key = spec.keys[upto]!;
    const admin = await lockOn(templateName(key));
    try {
      const names = spec.keys.slice(0, upto + 1).map(templateName);
      const have = await exists(admin, names);
      if (have.has(names[upto]!)) return "cached";
      if (upto === 0) {
        await build(admin, "template0", key, async (s, name) => {
          await preludeIn(name, spec.prelude ?? []);
          await spec.buildBase(s);
        });
        return -1;
      }
      const from = names.findLastIndex((n) => have.has(n));
      if (from < 0)
        throw new ScratchError(`no template to build ${templateName(key)} from: the base is missing`);
      log.debug({ key, from }, "building template");
      await build(admin, names[from]!, key, async (s) => {
        for (let i = from + 1; i <= upto; i++) await spec.applyStep(s, i);
      });
      return from;
    } finally {
      await unlock(admin);
    }
  }

  async function ensureTemplate(spec: TemplateSpec): Promise<TemplateOutcome> {
    const started = Date.now();
    const last = spec.keys.length - 1;
    if (last < 0) throw new ScratchError("ensureTemplate needs at least one key");
    const done = (builtFrom: TemplateOutcome["builtFrom"]) => ({
      key: spec.keys[last]!,
      builtFrom,
      ms: Date.now() - started,
    });
    const names = spec.keys.map(templateName);
    const have = await withAdmin((admin) => exists(admin, names));
    if (have.has(names[last]!)) {
      await withAdmin((admin) => markUsed(admin, names[last]!, Date.now())).catch(() => undefined);
      return done("cached");
    }
    const baseBuilt = last > 0 && !have.has(names[0]!) && (await buildLocked(spec, 0)) !== "cached";
    const from = await buildLocked(spec, last);
    await housekeep(new Set([names[0]!, names[last]!]));
    return done(from === 0 && baseBuilt ? -1 : from);
  }

  /** Marks the templates just built as used, then evicts beyond `keep` (never these two). */
  async function housekeep(protect: Set<string>): Promise<void> {
    await withAdmin(async (admin) => {
      for (const name of protect) await markUsed(admin, name, Date.now()).catch(() => undefined);
      const dropped = await evict(admin, options.keep ?? DEFAULT_KEEP, {
        now: Date.now(),
        protect,
        pinRecentMs: options.pinRecentMs,
      });
      if (dropped.length > 0) log.info({ dropped }, "evicted least recently used scratch templates");
    }).catch((err: unknown) => log.warn({ err: errorMessage(err) }, "scratch housekeeping failed"));
  }

  /** Claims the first free warm slot of `key`: its name and the admin session holding its lock. */
  async function claimWarm(key: string): Promise<{ admin: pg.Client; name: string } | null> {
    const admin = await connect();
    try {
      for (let n = 0; n < WARM_SLOTS; n++) {
        const name = warmName(key, n);
        if (busy.has(name)) continue;
        busy.add(name);
        let ok = false;
        try {
          ok = await tryLock(admin, name);
        } finally {
          if (!ok) busy.delete(name);
        }
        if (ok) return { admin, name };
      }
    } catch (err) {
      await disconnect(admin);
      throw err;
    }
    await disconnect(admin);
    return null;
  }

  async function withWarmClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T> {
    const claim = await claimWarm(key);
    if (!claim) {
      log.debug({ key }, "all warm clones busy; using a disposable clone");
      return withDisposableClone(key, fn);
    }
    try {
      const { admin, name } = claim;
      if ((await exists(admin, [name])).size === 0) await createFrom(admin, name, templateName(key));
      const client = await connect(name);
      try {
        return await fn(sessionOf(client));
      } finally {
        await client.query("ROLLBACK").catch(() => undefined);
        await disconnect(client);
      }
    } finally {
      await unlock(claim.admin);
      busy.delete(claim.name);
    }
  }

  async function withDisposableClone<T>(
    key: string,
    fn: (session: ScratchSession) => Promise<T>,
  ): Promise<T> {
    const name = `${SCRATCH_PREFIX}run_${hex(6)}`;
    const admin = await lockOn(name);
    try {
      await createFrom(admin, name, templateName(key));
      try {
        const client = await connect(name);
        try {
          return await fn(sessionOf(client));
        } finally {
          await disconnect(client);
        }
      } finally {
        await dropQuietly(admin, name);
      }
    } finally {
      await unlock(admin);
    }
  }

  async function janitor(): Promise<string[]> {
    const dropped: string[] = [];
    await withAdmin(async (admin) => {
      const { rows } = await admin.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1",
        [`${SCRATCH_PREFIX.replaceAll("_", "\\_")}%`],
      );
      const all = new Set(rows.map((r) => r.datname));
      for (const name of all) {
        if (!isLeftover(name, all) || !(await tryLock(admin, name))) continue;
        try {
          if ((await exists(admin, [name])).size === 0) continue;
          await dropScratchDatabase(admin, name);
          dropped.push(name);
        } finally {
          await admin.query(UNLOCK_SQL, [name]);
        }
      }
    });
    if (dropped.length > 0) log.info({ dropped }, "janitor dropped leftover scratch databases");
    return dropped;
  }

  return {
    kind: "postgres",
    limitations,
    async verifyRole() {
      const role = await withAdmin((admin) => inspectRole(admin));
      const { warnings } = checkScratchRole(role, options.allowSuperuser === true);
      limitations.push(...warnings);
    },
    inventory: () => withAdmin((admin) => inventory(admin)),
    async serverVersionNum() {
      const { rows } = await withAdmin((admin) =>
        admin.query<{ server_version_num: string }>("SHOW server_version_num"),
      );
      return Number(rows[0]?.server_version_num);
    },
    ensureTemplate,
    withWarmClone,
    withDisposableClone,
    janitor,
    async close() {
      await Promise.all([...open].map(disconnect));
    },
  };
}
