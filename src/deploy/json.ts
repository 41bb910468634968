/** Small readers for untrusted JSON answers: no field is assumed to exist or have its type. */

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A non-empty string field, else null. */
export function stringField(obj: Record<string, unknown>, key: string): string | null {
  const value = obj[key];
  return typeof value === "string" && value !== "" ? value : null;
}

/** A finite number field, else null. */
export function numberField(obj: Record<string, unknown>, key: string): number | null {
  const value = obj[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Gitea's `message` (or any `message`/`error` string) from an error answer, cut to one short line. */
export function serverMessage(json: unknown): string | null {
  const obj = asRecord(json);
  if (!obj) return null;
  const text = stringField(obj, "message") ?? stringField(obj, "error");
  if (!text) return null;
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * RFC 6901 JSON pointer: "" is the whole document, "/a/b" walks keys (array indexes in decimal),
 * `~1` stands for "/" and `~0` for "~". Returns undefined when the path does not exist or the
 * pointer is malformed.
 */
export function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === "") return doc;
  if (!pointer.startsWith("/")) return undefined;
  let current: unknown = doc;
  for (const raw of pointer.slice(1).split("/")) {
    if (/~(?![01])/.test(raw)) return undefined;
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else {
      const obj = asRecord(current);
      if (!obj || !Object.hasOwn(obj, token)) return undefined;
      current = obj[token];
    }
    if (current === undefined) return undefined;
  }
  return current;
}
