import { GitError } from "../errors.js";
import type { Git } from "./git.js";

/**
 * Reads many objects (blobs, trees) with one `git cat-file --batch`. Object ids never change meaning, so callers may
 * cache the answers forever.
 */
export async function readBlobs(git: Git, oids: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const unique = [...new Set(oids)];
  if (unique.length === 0) return out;
  const r = await git.runBuffer(["cat-file", "--batch"], { input: `${unique.join("\n")}\n` });
  if (!r.ok) throw new GitError(`git cat-file --batch failed: ${r.stderr.trim()}`);
  const buf = r.stdout;
  let pos = 0;
  while (pos < buf.length) {
    const eol = buf.indexOf(0x0a, pos);
    if (eol < 0) break;
    const [oid, type, size] = buf.toString("utf8", pos, eol).split(" ");
    pos = eol + 1;
    if (!oid || type === "missing" || size === undefined) continue;
    const length = Number(size);
    out.set(oid, buf.subarray(pos, pos + length));
    pos += length + 1;
  }
  return out;
}
