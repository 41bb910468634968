/** The bounded tail of a step's output: a byte ring and its formatting for answers. */

/** A fixed-size ring holding the last `size` bytes pushed through it. */
export class Ring {
  private readonly buf: Buffer;
  private pos = 0;
  private full = false;

  constructor(private readonly size: number) {
    this.buf = Buffer.alloc(size);
  }

  push(chunk: Buffer): void {
    const src = chunk.length > this.size ? chunk.subarray(chunk.length - this.size) : chunk;
    const first = Math.min(src.length, this.size - this.pos);
    src.copy(this.buf, this.pos, 0, first);
    src.copy(this.buf, 0, first);
    const next = this.pos + src.length;
    if (next >= this.size) this.full = true;
    this.pos = next % this.size;
  }

  contents(): Buffer {
    return this.full
      ? Buffer.concat([this.buf.subarray(this.pos), this.buf.subarray(0, this.pos)])
      : this.buf.subarray(0, this.pos);
  }
}

/**
 * The tail of the output: whole lines where possible, at most `maxLines` lines and `maxBytes` bytes
 * including a first line "[… N bytes earlier in <logFile>]" when anything was left out.
 */
export function formatTail(
  kept: Buffer,
  total: number,
  logFile: string,
  maxLines: number,
  maxBytes: number,
): string {
  const end = kept.length > 0 && kept[kept.length - 1] === 0x0a ? kept.length - 1 : kept.length;
  const body = kept.subarray(0, end);
  const whole = body.toString("utf8");
  const lines = end === 0 ? 0 : whole.split("\n").length;
  if (kept.length === total && lines <= maxLines && Buffer.byteLength(whole) <= maxBytes) return whole;
  const marker = (n: number) => `[… ${n} bytes earlier in ${logFile}]`;
  const budget = Math.max(0, maxBytes - Buffer.byteLength(marker(total)) - 1);
  const start = tailStart(body, kept.length === total, maxLines - 1, budget);
  const text = clampBytes(body.subarray(start).toString("utf8"), budget);
  const clamped = Math.max(0, body.length - start - Buffer.byteLength(text));
  const earlier = total - (kept.length - start) + clamped;
  return text === "" ? marker(earlier) : `${marker(earlier)}\n${text}`;
}

/** Where the kept text starts in `body`: after as many whole lines as fit, else mid-line. */
function tailStart(body: Buffer, startsAtLine: boolean, maxLines: number, budget: number): number {
  const end = body.length;
  let start = end;
  let searchFrom = end - 1; // the last byte of the next line to take
  let taken = 0;
  while (taken < maxLines) {
    const nl = searchFrom >= 0 ? body.lastIndexOf(0x0a, searchFrom) : -1;
    if ((nl < 0 && !startsAtLine) || end - (nl + 1) > budget) break;
    start = nl + 1;
    taken++;
    if (nl < 0) break;
    searchFrom = nl - 1;
  }
  if (taken > 0 || end === 0) return start;
  let cut = Math.max(0, end - budget);
  while (cut < end && ((body[cut] ?? 0) & 0xc0) === 0x80) cut++;
  return cut;
}

/** Drops characters from the front until `text` fits in `max` UTF-8 bytes (undecodable output can grow). */
function clampBytes(text: string, max: number): string {
  let s = text;
  for (let excess = Buffer.byteLength(s) - max; excess > 0; excess = Buffer.byteLength(s) - max) {
    s = s.slice(Math.ceil(excess / 3));
  }
  return s;
}
