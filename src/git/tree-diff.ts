import { GitError } from "../errors.js";
import type { Git } from "./git.js";
import type { TreeEntry } from "./tree-scan.js";

/**
 * For each tree, the entries whose names `base` lacks (git's status A), read for every tree at once
 * through one `git diff-tree --stdin -z` process: git compares the trees in C and answers only what
 * differs, so a thousand branch directories of three hundred files each cost one small answer.
 * Subdirectories are not followed (a migration directory is flat; its subtrees are not migrations).
 */
export async function entriesAddedOver(
  git: Git,
  base: string,
  trees: string[],
): Promise<Map<string, TreeEntry[]>> {
  const out = new Map<string, TreeEntry[]>(trees.map((t) => [t, []]));
  const others = [...new Set(trees)].filter((t) => t !== base);
  if (others.length === 0) return out;
  const r = await git.run(["diff-tree", "--stdin", "-z"], {
    input: `${others.map((t) => `${base} ${t}`).join("\n")}\n`,
  });
  if (!r.ok) throw new GitError(`git diff-tree --stdin failed: ${r.stderr.trim()}`);
  parseDiffTree(r.stdout, out);
  return out;
}

/**
 * `<base> <tree>\n` opens each pair's answer; then records `:<mode> <mode> <oid> <oid> <status>\0<path>\0`.
 * Only additions are kept: a name both trees have is main's file (edited or not), not an addition.
 */
function parseDiffTree(text: string, out: Map<string, TreeEntry[]>): void {
  let pos = 0;
  let current: TreeEntry[] | undefined;
  while (pos < text.length) {
    if (text[pos] !== ":") {
      const end = text.indexOf("\n", pos);
      const header = text.slice(pos, end < 0 ? text.length : end);
      current = out.get(header.slice(header.indexOf(" ") + 1));
      pos = end < 0 ? text.length : end + 1;
      continue;
    }
    const metaEnd = text.indexOf("\0", pos);
    const pathEnd = text.indexOf("\0", metaEnd + 1);
    if (metaEnd < 0 || pathEnd < 0) throw new GitError("git diff-tree answered a record it did not finish");
    const [, mode, , oid, status] = text.slice(pos + 1, metaEnd).split(" ");
    if (status === "A" && mode && oid) current?.push({ name: text.slice(metaEnd + 1, pathEnd), mode, oid });
    pos = pathEnd + 1;
  }
}
