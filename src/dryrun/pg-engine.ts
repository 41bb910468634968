import { type Logger, silentLogger } from "../log.js";
import type { ScratchEngine } from "./engine.js";
import { dropLeftovers, ScratchClones } from "./pg-clones.js";
import { ScratchConnections } from "./pg-connections.js";
import { inventory, type KeepPolicy, type ScratchDatabase } from "./pg-evict.js";
import { checkScratchRole, inspectRole } from "./pg-role.js";
import { ensureTemplate, type TemplateContext } from "./pg-templates.js";

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
  const conns = new ScratchConnections(options.dsn, options.adminDsn, log);
  const clones = new ScratchClones(conns, log);
  const templates: TemplateContext = {
    conns,
    log,
    keep: options.keep ?? DEFAULT_KEEP,
    pinRecentMs: options.pinRecentMs,
  };
  const limitations: string[] = [];
  return {
    kind: "postgres",
    limitations,
    async verifyRole() {
      const role = await conns.withSession((admin) => inspectRole(admin));
      const { warnings } = checkScratchRole(role, options.allowSuperuser === true);
      limitations.push(...warnings);
    },
    inventory: () => conns.withSession((admin) => inventory(admin)),
    async serverVersionNum() {
      const { rows } = await conns.withSession((admin) =>
        admin.query<{ server_version_num: string }>("SHOW server_version_num"),
      );
      return Number(rows[0]?.server_version_num);
    },
    ensureTemplate: (spec) => ensureTemplate(templates, spec),
    withWarmClone: (key, fn) => clones.withWarmClone(key, fn),
    withDisposableClone: (key, fn) => clones.withDisposableClone(key, fn),
    janitor: () => dropLeftovers(conns, log),
    close: () => conns.closeAll(),
  };
}
