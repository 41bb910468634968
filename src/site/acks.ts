/**
 * Acknowledgement markers: a SQL comment line in a migration file that accepts, for that file and
 * its exact content, what site safety would otherwise call red.
 *
 *   -- mai-gate: contract users.email, users.legacy_id   (the contract step of expand/contract)
 *   -- mai-gate: lock users                              (a long lock, e.g. inside a maintenance window)
 *
 * Objects are `table.column`, `table` (or a type or function name), optionally schema-qualified;
 * `*` accepts every object of that kind in the file. The finding stays a warning that deploy_status
 * and the head's lease review show.
 */

export type AckKind = "contract" | "lock";

export interface Ack {
  kind: AckKind;
  /** Lower-cased, unquoted names; `*` for all. */
  objects: string[];
  line: number;
  /** The marker as written, for the report. */
  text: string;
}

const MARKER = /^[ \t]*--[ \t]*mai-gate:[ \t]*(contract|lock)\b(.*)$/i;

/** The file's markers, in line order. */
export function readAcks(text: string): Ack[] {
  const out: Ack[] = [];
  text.split("\n").forEach((raw, i) => {
    const m = MARKER.exec(raw.replace(/\r$/, ""));
    if (!m) return;
    const objects = m[2]!
      .split(/[,\s]+/)
      .map((o) => o.replaceAll('"', "").toLowerCase())
      .filter((o) => o !== "");
    if (objects.length === 0) return;
    out.push({ kind: m[1]!.toLowerCase() as AckKind, objects, line: i + 1, text: raw.trim() });
  });
  return out;
}

/**
 * The marker accepting `object`, given without its schema (`users.email`, `users`): a marker names it
 * with the same last parts (`users.email`, `public.users.email`), or `*`.
 */
export function acknowledging(acks: Ack[], kind: AckKind, object: string | null): Ack | null {
  const want = object ? object.toLowerCase().replaceAll('"', "").split(".") : null;
  for (const ack of acks) {
    if (ack.kind !== kind) continue;
    if (ack.objects.includes("*")) return ack;
    if (!want) continue;
    const named = ack.objects.some((o) => {
      const got = o.split(".");
      return got.length >= want.length && got.slice(-want.length).join(".") === want.join(".");
    });
    if (named) return ack;
  }
  return null;
}
