import type pg from "pg";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { SCRATCH_PREFIX, type ScratchSession } from "./engine.js";
import { createFrom, existing, type ScratchConnections, tryLock } from "./pg-connections.js";
import {
  dropScratchDatabase,
  hex,
  isLeftover,
  sessionOf,
  templateName,
  UNLOCK_SQL,
  WARM_SLOTS,
  warmName,
} from "./pg-scratch.js";

/**
 * Clones of a template for one rehearsal each: a warm clone (kept, its transaction rolled back after
 * use) when one of `WARM_SLOTS` is free, else a disposable one dropped afterwards. Each is claimed
 * by an advisory lock on its name, so a crashed process's clones are reclaimed by the janitor.
 */
export class ScratchClones {
  /** Warm names claimed in this process (advisory locks are re-entrant within one session). */
  private readonly busy = new Set<string>();

  constructor(
    private readonly conns: ScratchConnections,
    private readonly log: Logger,
  ) {}

  async withWarmClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T> {
    const claim = await this.claimWarm(key);
    if (!claim) {
      this.log.debug({ key }, "all warm clones busy; using a disposable clone");
      return this.withDisposableClone(key, fn);
    }
    try {
      const { admin, name } = claim;
      if ((await existing(admin, [name])).size === 0) await createFrom(admin, name, templateName(key));
      const client = await this.conns.connect(name);
      try {
        return await fn(sessionOf(client, () => this.cancel(client)));
      } finally {
        await client.query("ROLLBACK").catch(() => undefined);
        await this.conns.disconnect(client);
      }
    } finally {
      await this.conns.unlock(claim.admin);
      this.busy.delete(claim.name);
    }
  }

  async withDisposableClone<T>(key: string, fn: (session: ScratchSession) => Promise<T>): Promise<T> {
    const name = `${SCRATCH_PREFIX}run_${hex(6)}`;
    const admin = await this.conns.lockOn(name);
    try {
      await createFrom(admin, name, templateName(key));
      try {
        const client = await this.conns.connect(name);
        try {
          return await fn(sessionOf(client, () => this.cancel(client)));
        } finally {
          await this.conns.disconnect(client);
        }
      } finally {
        await this.conns.dropQuietly(admin, name);
      }
    } finally {
      await this.conns.unlock(admin);
    }
  }

  /** Cancels `client`'s running statement from a session of its own (the same role may). */
  private async cancel(client: pg.Client): Promise<void> {
    const pid = (client as unknown as { processID: number | null }).processID;
    if (pid === null) return;
    await this.conns
      .withSession((s) => s.query("SELECT pg_cancel_backend($1)", [pid]))
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, "cancelling a rehearsal failed"));
  }

  /** Claims the first free warm slot of `key`: its name and the session holding its lock. */
  private async claimWarm(key: string): Promise<{ admin: pg.Client; name: string } | null> {
    const admin = await this.conns.connect();
    try {
      for (let n = 0; n < WARM_SLOTS; n++) {
        const name = warmName(key, n);
        if (this.busy.has(name)) continue;
        this.busy.add(name);
        let ok = false;
        try {
          ok = await tryLock(admin, name);
        } finally {
          if (!ok) this.busy.delete(name);
        }
        if (ok) return { admin, name };
      }
    } catch (err) {
      await this.conns.disconnect(admin);
      throw err;
    }
    await this.conns.disconnect(admin);
    return null;
  }
}

/** Drops the leftovers of crashed runs (unlocked run/build databases, warm clones of gone templates). */
export async function dropLeftovers(conns: ScratchConnections, log: Logger): Promise<string[]> {
  const dropped: string[] = [];
  await conns.withSession(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`${SCRATCH_PREFIX.replaceAll("_", "\\_")}%`],
    );
    const all = new Set(rows.map((r) => r.datname));
    for (const name of all) {
      if (!isLeftover(name, all) || !(await tryLock(admin, name))) continue;
      try {
        if ((await existing(admin, [name])).size === 0) continue;
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
