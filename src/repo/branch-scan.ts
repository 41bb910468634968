import type { AddedEntriesCache, TreeEntry } from "../git/tree-scan.js";
import type { Logger } from "../log.js";
import type { StateStore } from "../store/types.js";

/** At most this many branch directories kept per base: beyond it, a new process asks git again. */
const MAX_TREES = 50_000;

/**
 * The entries each branch's migration directory adds over main's, kept in the state store so a new
 * process (every worker's client starts one) asks git only about directories nobody has read yet.
 * One value per directory, for main's current tree: when main moves, the next reader replaces it.
 * It is an economy: a store too busy to read or write only means asking git.
 */
export function storedAddedEntries(
  store: StateStore,
  dir: string,
  logger: Logger,
  now: () => number,
): AddedEntriesCache {
  const key = `branch-scan:${dir}`;
  return {
    async load(base) {
      const hit = await store.getShared(key).catch((err: unknown) => {
        logger.debug({ err }, "branch scans not read from the state store");
        return null;
      });
      if (!hit) return null;
      try {
        const saved = JSON.parse(hit.value) as {
          base: string;
          trees: Record<string, [string, string, string][]>;
        };
        if (saved.base !== base) return null;
        return new Map(
          Object.entries(saved.trees).map(([tree, rows]) => [
            tree,
            rows.map(([name, mode, oid]): TreeEntry => ({ name, mode, oid })),
          ]),
        );
      } catch {
        return null;
      }
    },
    async save(base, added) {
      if (added.size > MAX_TREES) return;
      const trees: Record<string, [string, string, string][]> = {};
      for (const [tree, entries] of added) trees[tree] = entries.map((e) => [e.name, e.mode, e.oid]);
      await store.setShared(key, JSON.stringify({ base, trees }), now()).catch((err: unknown) => {
        logger.debug({ err }, "branch scans not saved to the state store");
      });
    },
  };
}
