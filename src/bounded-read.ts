import { constants } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, sep } from "node:path";

/** Why a file was not read; callers turn it into their own domain error. */
export type ReadRefusalReason =
  | "missing"
  | "outside"
  | "not_regular"
  | "too_large"
  | "timeout"
  | "unreadable";

export class ReadRefusal extends Error {
  constructor(
    readonly reason: ReadRefusalReason,
    message: string,
    options: { cause?: unknown; bytes?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.bytes = options.bytes ?? null;
  }
  /** With `too_large`: the file's size. */
  readonly bytes: number | null;
}

export interface BoundedReadOptions {
  /** Refuse a file bigger than this many bytes. */
  maxBytes: number;
  /** Give up after this long (a slow or stuck file system). */
  timeoutMs: number;
  /** When set, the file's real path (symlinks and `..` resolved) must lie inside this directory. */
  within?: string;
}

/** `1048576` → `1 MiB`, `262144` → `256 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads a text file that something outside mai-gate named, without letting it hang or flood the
 * process: only a regular file (a FIFO, socket or device is refused before it is opened, and the
 * open is non-blocking in case one is swapped in), at most `maxBytes`, within `timeoutMs`, and,
 * with `within`, only inside that directory once every symlink is resolved.
 */
export async function readBoundedText(path: string, options: BoundedReadOptions): Promise<string> {
  return (await readBoundedFile(path, options)).bytes.toString("utf8");
}

/** `readBoundedText`'s bytes, with the real path they were read from. */
export async function readBoundedFile(
  path: string,
  options: BoundedReadOptions,
): Promise<{ real: string; bytes: Buffer }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ReadRefusal("timeout", `reading it took longer than ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  try {
    return await Promise.race([read(path, options), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function read(path: string, options: BoundedReadOptions): Promise<{ real: string; bytes: Buffer }> {
  const root = options.within === undefined ? null : await realpath(options.within);
  const outside = () =>
    new ReadRefusal("outside", `it lies outside ${root} once symlinks and .. are resolved`);
  const real = await realpath(path).catch((err: NodeJS.ErrnoException) => {
    // Whether a file outside the root exists is not said either.
    if (root !== null && !inside(options.within!, path) && !inside(root, path)) throw outside();
    throw err.code === "ENOENT"
      ? new ReadRefusal("missing", "no such file", { cause: err })
      : new ReadRefusal("unreadable", `cannot resolve it: ${err.code ?? err.message}`, { cause: err });
  });
  if (root !== null && !inside(root, real)) throw outside();
  checkShape(await stat(real), options.maxBytes);
  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw new ReadRefusal("unreadable", `cannot open it: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      cause: err,
    });
  }
  try {
    // What was opened may not be what was looked at: check the open file itself too.
    checkShape(await handle.stat(), options.maxBytes);
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= options.maxBytes) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, options.maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > options.maxBytes) throw tooLarge(length, options.maxBytes);
    return { real, bytes: Buffer.concat(chunks, length) };
  } finally {
    await handle.close();
  }
}

/** Whether `path` lies strictly inside the directory `root`. */
function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function checkShape(s: { isFile(): boolean; isDirectory(): boolean; size: number }, maxBytes: number) {
  if (!s.isFile())
    throw new ReadRefusal("not_regular", `it is ${s.isDirectory() ? "a directory" : "not a regular file"}`);
  if (s.size > maxBytes) throw tooLarge(s.size, maxBytes);
}

function tooLarge(size: number, maxBytes: number): ReadRefusal {
  return new ReadRefusal("too_large", `it is ${size} bytes, over the limit of ${formatBytes(maxBytes)}`, {
    bytes: size,
  });
}
