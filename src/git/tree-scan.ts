import { GitError } from "../errors.js";
import { readBlobs } from "./blobs.js";
import type { Git } from "./git.js";
import { entriesAddedOver } from "./tree-diff.js";

/** One entry of a directory tree in git. */
export interface TreeEntry {
  name: string;
  mode: string;
  /** The blob's object id: equal ids mean equal content. */
  oid: string;
}

/**
 * Where the entries a tree adds over a base are kept between processes (the state store): the
 * answers for one base at a time, so a new process asks git only about trees nobody has seen.
 */
export interface AddedEntriesCache {
  load(base: string): Promise<Map<string, TreeEntry[]> | null>;
  save(base: string, added: Map<string, TreeEntry[]>): Promise<void>;
}

/**
 * Lists one directory at many commits with a constant number of git processes, whatever the number
 * of refs. Every cache is keyed by object ids, which never change meaning: commit → directory tree,
 * tree → entries, and (base tree, tree) → the entries the tree adds over the base. A rescan after
 * one branch moved costs one lookup for that branch only.
 */
export class DirScanner {
  private readonly dirTreeByCommit = new Map<string, string | null>();
  private readonly entriesByTree = new Map<string, TreeEntry[]>();
  private added: { base: string; byTree: Map<string, TreeEntry[]> } | undefined;

  constructor(
    private readonly git: Git,
    private readonly dir: string,
  ) {}

  /** The directory's tree id at each commit (null where the directory does not exist). */
  async treesAt(commits: string[]): Promise<Map<string, string | null>> {
    const unknown = [...new Set(commits.filter((c) => !this.dirTreeByCommit.has(c)))];
    if (unknown.length > 0) {
      const spec = this.dir.replace(/\/+$/, "");
      const r = await this.git.run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], {
        input: `${unknown.map((c) => `${c}:${spec}`).join("\n")}\n`,
      });
      if (!r.ok) throw new GitError(`git cat-file --batch-check failed: ${r.stderr.trim()}`);
      const lines = r.stdout.split("\n");
      unknown.forEach((commit, i) => {
        const [oid, type] = (lines[i] ?? "").split(" ");
        this.dirTreeByCommit.set(commit, type === "tree" && oid ? oid : null);
      });
    }
    return new Map(commits.map((c) => [c, this.dirTreeByCommit.get(c) ?? null]));
  }

  /** Entries of each tree id. */
  async entries(trees: string[]): Promise<Map<string, TreeEntry[]>> {
    const unknown = [...new Set(trees.filter((t) => !this.entriesByTree.has(t)))];
    if (unknown.length > 0) {
      const bodies = await readBlobs(this.git, unknown);
      for (const [oid, body] of bodies) this.entriesByTree.set(oid, parseTree(body, oid.length / 2));
    }
    return new Map(trees.map((t) => [t, this.entriesByTree.get(t) ?? []]));
  }

  /**
   * For each tree, the entries whose names `base` lacks: from memory, else from the cache the
   * caller keeps between processes, else from git in one process for all the rest (then saved).
   */
  async addedOver(
    base: string,
    trees: string[],
    cache?: AddedEntriesCache,
  ): Promise<Map<string, TreeEntry[]>> {
    if (this.added?.base !== base) this.added = { base, byTree: new Map([[base, []]]) };
    const known = this.added.byTree;
    const missing = () => [...new Set(trees.filter((t) => !known.has(t)))];
    if (cache && missing().length > 0) {
      for (const [tree, entries] of (await cache.load(base)) ?? []) known.set(tree, entries);
    }
    const unknown = missing();
    if (unknown.length > 0) {
      for (const [tree, entries] of await entriesAddedOver(this.git, base, unknown)) known.set(tree, entries);
      await cache?.save(base, known);
    }
    return new Map(trees.map((t) => [t, known.get(t) ?? []]));
  }

  /** The directory's entries at each commit; null where it does not exist. */
  async scan(commits: string[]): Promise<Map<string, { tree: string; entries: TreeEntry[] } | null>> {
    const trees = await this.treesAt(commits);
    const present = [...trees.values()].filter((t): t is string => t !== null);
    const entries = await this.entries(present);
    const out = new Map<string, { tree: string; entries: TreeEntry[] } | null>();
    for (const [commit, tree] of trees)
      out.set(commit, tree ? { tree, entries: entries.get(tree) ?? [] } : null);
    return out;
  }
}

/** Parses a raw tree object: repeated `<mode> <name>\0<raw id>`. */
function parseTree(body: Buffer, idBytes: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    const nul = body.indexOf(0x00, space);
    if (space < 0 || nul < 0) break;
    const mode = body.toString("utf8", pos, space);
    const name = body.toString("utf8", space + 1, nul);
    const oid = body.toString("hex", nul + 1, nul + 1 + idBytes);
    out.push({ name, mode, oid });
    pos = nul + 1 + idBytes;
  }
  return out;
}
