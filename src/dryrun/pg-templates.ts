import type pg from "pg";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import {
  SCRATCH_PREFIX,
  ScratchError,
  type ScratchSession,
  type TemplateOutcome,
  type TemplateSpec,
} from "./engine.js";
import { createFrom, existing, type ScratchConnections } from "./pg-connections.js";
import { evict, type KeepPolicy, markUsed } from "./pg-evict.js";
import { hex, LOCK_SQL, q, sessionOf, tag, templateName } from "./pg-scratch.js";
import { runPrelude } from "./prelude.js";

/**
 * Templates on the scratch server: a chain of databases, one per key, each built from the deepest
 * one below it that exists, under an advisory lock on its name so one process builds it while the
 * others wait and then find it; least recently used ones are evicted beyond `keep`.
 */
export interface TemplateContext {
  conns: ScratchConnections;
  log: Logger;
  keep: KeepPolicy;
  pinRecentMs: number | undefined;
}

export async function ensureTemplate(ctx: TemplateContext, spec: TemplateSpec): Promise<TemplateOutcome> {
  const started = Date.now();
  const last = spec.keys.length - 1;
  if (last < 0) throw new ScratchError("ensureTemplate needs at least one key");
  const done = (builtFrom: TemplateOutcome["builtFrom"]) => ({
    key: spec.keys[last]!,
    builtFrom,
    ms: Date.now() - started,
  });
  const names = spec.keys.map(templateName);
  const have = await ctx.conns.withSession((s) => existing(s, names));
  if (have.has(names[last]!)) {
    await ctx.conns.withSession((s) => markUsed(s, names[last]!, Date.now())).catch(() => undefined);
    return done("cached");
  }
  const baseBuilt = last > 0 && !have.has(names[0]!) && (await buildLocked(ctx, spec, 0)) !== "cached";
  const from = await buildLocked(ctx, spec, last);
  await housekeep(ctx, new Set([names[0]!, names[last]!]));
  return done(from === 0 && baseBuilt ? -1 : from);
}

/** Under the lock on template `keys[upto]`: re-checks, then builds it from the deepest template below. */
async function buildLocked(
  ctx: TemplateContext,
  spec: TemplateSpec,
  upto: number,
): Promise<number | "cached"> {
  const key = spec.keys[upto]!;
  const admin = await ctx.conns.lockOn(templateName(key));
  try {
    const names = spec.keys.slice(0, upto + 1).map(templateName);
    const have = await existing(admin, names);
    if (have.has(names[upto]!)) return "cached";
    if (upto === 0) {
      await build(ctx, admin, "template0", key, async (s, name) => {
        await preludeIn(ctx.conns, name, spec.prelude ?? []);
        await spec.buildBase(s);
      });
      return -1;
    }
    const from = names.findLastIndex((n) => have.has(n));
    if (from < 0)
      throw new ScratchError(`no template to build ${templateName(key)} from: the base is missing`);
    ctx.log.debug({ key, from }, "building template");
    await build(ctx, admin, names[from]!, key, async (s) => {
      for (let i = from + 1; i <= upto; i++) await spec.applyStep(s, i);
    });
    return from;
  } finally {
    await ctx.conns.unlock(admin);
  }
}

/** Builds template `key` in a locked build database; on failure drops it and rethrows `work`'s error. */
async function build(
  ctx: TemplateContext,
  admin: pg.Client,
  source: string,
  key: string,
  work: (s: ScratchSession, name: string) => Promise<void>,
): Promise<void> {
  const name = `${SCRATCH_PREFIX}build_${tag(key)}_${hex(3)}`;
  await admin.query(LOCK_SQL, [name]);
  await createFrom(admin, name, source);
  try {
    const client = await ctx.conns.connect(name);
    try {
      await work(sessionOf(client), name);
    } finally {
      await ctx.conns.disconnect(client);
    }
    await admin.query(`ALTER DATABASE ${q(name)} RENAME TO ${q(templateName(key))}`).catch((err: unknown) => {
      throw new ScratchError(`renaming ${name} to ${templateName(key)} failed: ${errorMessage(err)}`, {
        cause: err,
      });
    });
  } catch (err) {
    await ctx.conns.dropQuietly(admin, name);
    throw err;
  }
}

/** The prelude on the admin connection (the runner's when there is none), in database `name`. */
async function preludeIn(conns: ScratchConnections, name: string, statements: string[]): Promise<void> {
  if (statements.length === 0) return;
  const client = await conns.connect(name, "admin");
  try {
    await runPrelude(sessionOf(client), statements);
  } finally {
    await conns.disconnect(client);
  }
}

/** Marks the templates just built as used, then evicts beyond `keep` (never these). */
async function housekeep(ctx: TemplateContext, protect: Set<string>): Promise<void> {
  await ctx.conns
    .withSession(async (admin) => {
      for (const name of protect) await markUsed(admin, name, Date.now()).catch(() => undefined);
      const dropped = await evict(admin, ctx.keep, {
        now: Date.now(),
        protect,
        pinRecentMs: ctx.pinRecentMs,
      });
      if (dropped.length > 0) ctx.log.info({ dropped }, "evicted least recently used scratch templates");
    })
    .catch((err: unknown) => ctx.log.warn({ err: errorMessage(err) }, "scratch housekeeping failed"));
}
