import { createHash } from "node:crypto";

/** Hex sha256 of a string: the content key used for files, dumps, suites and templates. */
export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
