import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * PGlite templates saved across processes: a gzip tarball of the data directory per template key,
 * `<dir>/<key>.tar.gz`, with `<key>.json` holding its sha256. The hash is checked before PGlite
 * sees the bytes: a truncated gzip makes PGlite's loader throw outside any promise, which would
 * end the process. The most recently used `keep` snapshots are kept.
 */
export interface SnapshotStore {
  readonly dir: string;
  /** The snapshot's bytes, or null when there is none or it does not match its hash (then it is removed). */
  load(key: string): Promise<Blob | null>;
  save(key: string, data: Blob): Promise<void>;
  remove(key: string): Promise<void>;
}

interface Meta {
  sha256: string;
  bytes: number;
}

const KEY = /^[0-9a-f]{16,128}$/;
const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

export function createSnapshotStore(dir: string, options: { keep?: number } = {}): SnapshotStore {
  const keep = options.keep ?? 4;
  const files = (key: string) => {
    if (!KEY.test(key)) throw new Error(`not a snapshot key: ${key.slice(0, 20)}`);
    return { data: join(dir, `${key}.tar.gz`), meta: join(dir, `${key}.json`) };
  };

  async function remove(key: string): Promise<void> {
    const f = files(key);
    await Promise.all([rm(f.data, { force: true }), rm(f.meta, { force: true })]);
  }

  async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Removes all but the `keep` newest snapshots (by last use) and stray temporaries. */
  async function prune(): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const dated = await Promise.all(
      names
        .filter((n) => n.endsWith(".json") && KEY.test(n.slice(0, -5)))
        .map(async (n) => ({
          key: n.slice(0, -5),
          at: (await stat(join(dir, n)).catch(() => null))?.mtimeMs,
        })),
    );
    const old = dated.sort((a, b) => (b.at ?? 0) - (a.at ?? 0)).slice(keep);
    await Promise.all(old.map((o) => remove(o.key)));
  }

  return {
    dir,
    remove,
    async load(key) {
      const f = files(key);
      let meta: Meta;
      let bytes: Buffer;
      try {
        meta = JSON.parse(await readFile(f.meta, "utf8")) as Meta;
        bytes = await readFile(f.data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") await remove(key);
        return null;
      }
      if (bytes.length !== meta.bytes || digest(bytes) !== meta.sha256) {
        await remove(key);
        return null;
      }
      const now = new Date();
      await utimes(f.meta, now, now).catch(() => undefined);
      return new Blob([bytes]);
    },
    async save(key, data) {
      const f = files(key);
      const bytes = new Uint8Array(await data.arrayBuffer());
      await mkdir(dir, { recursive: true });
      // The data first: a meta file never names bytes that are not there yet.
      await writeAtomic(f.data, bytes);
      await writeAtomic(
        f.meta,
        JSON.stringify({ sha256: digest(bytes), bytes: bytes.length } satisfies Meta),
      );
      await prune();
    },
  };
}
