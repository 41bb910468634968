import type pg from "pg";
import { SCRATCH_PREFIX } from "./engine.js";
import { dropScratchDatabase, q, TRY_LOCK_SQL, UNLOCK_SQL } from "./pg-scratch.js";

/**
 * Housekeeping of the scratch server: templates and warm clones are evicted least recently used
 * beyond `scratch.keep` (a count of templates and a total size), never while in use. A template's
 * last use is written in its database comment; cloning holds a shared advisory lock on the
 * template's name and building an exclusive one, so eviction (an exclusive try-lock) skips both.
 */
export interface ScratchDatabase {
  name: string;
  kind: "template" | "warm" | "run" | "build";
  bytes: number;
  /** When a template was last used (ms), from its comment; null when unknown. */
  lastUsed: number | null;
  /** The template a warm clone belongs to (its tag), for grouping. */
  tag: string | null;
}

export interface KeepPolicy {
  templates: number;
  megabytes: number;
}

const MARK = /^maigate last_used=(\d+)$/;
/** A template used within this long is never evicted (a dry run may be about to clone it). */
export const RECENT_MS = 10 * 60_000;

/** Writes a template's last use into its comment (the runner owns its templates). */
export async function markUsed(admin: pg.Client, template: string, now: number): Promise<void> {
  await admin.query(`COMMENT ON DATABASE ${q(template)} IS 'maigate last_used=${Math.floor(now)}'`);
}

/** Every `maigate_*` database with its size and, for templates, its last use. */
export async function inventory(admin: pg.Client): Promise<ScratchDatabase[]> {
  const { rows } = await admin.query<{ name: string; bytes: string; comment: string | null }>(
    `SELECT datname AS name, pg_database_size(oid)::text AS bytes, shobj_description(oid, 'pg_database') AS comment
       FROM pg_database WHERE datname LIKE $1 ORDER BY datname`,
    [`${SCRATCH_PREFIX.replaceAll("_", "\\_")}%`],
  );
  return rows.map((r) => {
    const kind = /^maigate_tpl_/.test(r.name)
      ? "template"
      : /^maigate_warm_/.test(r.name)
        ? "warm"
        : /^maigate_build_/.test(r.name)
          ? "build"
          : "run";
    const tag = /^maigate_(?:tpl|warm)_([0-9a-f]{24})/.exec(r.name)?.[1] ?? null;
    const used = MARK.exec(r.comment ?? "")?.[1];
    return { name: r.name, kind, bytes: Number(r.bytes), lastUsed: used ? Number(used) : null, tag };
  });
}

/**
 * Drops the least recently used templates (with their warm clones) beyond the policy. Templates in
 * `protect`, used within `RECENT_MS`, or locked by a build or a clone are kept. Answers what it dropped.
 */
export async function evict(
  admin: pg.Client,
  policy: KeepPolicy,
  options: { now: number; protect: Set<string>; pinRecentMs?: number | undefined },
): Promise<string[]> {
  const all = await inventory(admin);
  const templates = all
    .filter((d) => d.kind === "template")
    .sort((a, b) => (b.lastUsed ?? 0) - (a.lastUsed ?? 0));
  const groupBytes = (t: ScratchDatabase) =>
    t.bytes + all.filter((d) => d.kind === "warm" && d.tag === t.tag).reduce((n, d) => n + d.bytes, 0);
  const budget = policy.megabytes * 1024 * 1024;
  let kept = 0;
  let bytes = 0;
  const dropped: string[] = [];
  for (const t of templates) {
    const size = groupBytes(t);
    const fits = kept < policy.templates && bytes + size <= budget;
    const pinned =
      options.protect.has(t.name) ||
      (t.lastUsed !== null && options.now - t.lastUsed < (options.pinRecentMs ?? RECENT_MS));
    if (fits || pinned) {
      kept++;
      bytes += size;
      continue;
    }
    dropped.push(...(await dropGroup(admin, t, all)));
  }
  return dropped;
}

async function dropGroup(admin: pg.Client, t: ScratchDatabase, all: ScratchDatabase[]): Promise<string[]> {
  if (!(await tryLock(admin, t.name))) return [];
  const out: string[] = [];
  try {
    for (const warm of all.filter((d) => d.kind === "warm" && d.tag === t.tag)) {
      if (!(await tryLock(admin, warm.name))) return out;
      try {
        await dropScratchDatabase(admin, warm.name);
        out.push(warm.name);
      } finally {
        await admin.query(UNLOCK_SQL, [warm.name]);
      }
    }
    await dropScratchDatabase(admin, t.name);
    out.push(t.name);
    return out;
  } finally {
    await admin.query(UNLOCK_SQL, [t.name]);
  }
}

async function tryLock(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ ok: boolean }>(TRY_LOCK_SQL, [name]);
  return rows[0]?.ok === true;
}
