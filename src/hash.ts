import { createHash } from "node:crypto";

/** Hex sha256 of a string: the content key used for files, dumps, suites and templates. */
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * The id git gives a blob of this text (`git hash-object`): equal ids mean equal content, so a
 * file on disk can be compared with one in a commit without running git. `bytes` is the id's length
 * in bytes (20 for SHA-1 repositories, 32 for SHA-256 ones).
 */
export function gitBlobId(text: string, bytes = 20): string {
  const body = Buffer.from(text, "utf8");
  const header = Buffer.from(`blob ${body.length}\0`);
  return createHash(bytes === 32 ? "sha256" : "sha1")
    .update(Buffer.concat([header, body]))
    .digest("hex");
}
