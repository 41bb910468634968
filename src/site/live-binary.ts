import { type ChangeMatch, matchChange, type SchemaChange } from "../dryrun/explain.js";
import { type Ack, acknowledging } from "./acks.js";
import type { BrokenQuery, PrepareOutcome } from "./prepare.js";
import type { AppQuery, SiteFinding } from "./types.js";

export interface LiveBinaryInput {
  queries: AppQuery[];
  outcome: PrepareOutcome;
  /** Each branch file's schema changes, by path. */
  changes: Map<string, SchemaChange[]>;
  /** Each branch file's acknowledgement markers, by path. */
  acks: Map<string, Ack[]>;
}

/** What broke a query: the object and how the file changed it, when the clone's message says. */
interface Cause {
  key: string;
  /** `users.email`, `users`, … without schema; null when the message names no object. */
  object: string | null;
  noun: string | null;
  phrase: string;
  line: number | null;
}

const file = (path: string) => path.split("/").at(-1) ?? path;

function verb(change: SchemaChange): string {
  if (change.kind.startsWith("rename_")) return `renamed to ${change.newName ?? "?"}`;
  return change.kind.startsWith("drop_") ? "dropped" : "changed";
}

function causeOf(broken: BrokenQuery, changes: SchemaChange[]): Cause {
  const m: ChangeMatch | null = matchChange(broken, changes);
  if (!m) {
    return {
      key: `${broken.sqlstate}:${broken.message}`,
      object: null,
      noun: null,
      phrase: `${broken.message}, after ${file(broken.path)}`,
      line: null,
    };
  }
  const qualified = m.noun === "column" || m.noun === "constraint";
  const object = qualified && m.relation ? `${m.relation}.${m.object}` : m.object;
  const phrase = m.change
    ? `${m.noun} ${object}, ${verb(m.change)} by ${file(broken.path)}`
    : `${m.noun} ${object} is gone after ${file(broken.path)}`;
  return { key: `${m.noun}:${object}`, object, noun: m.noun, phrase, line: m.change?.line ?? null };
}

const calls = (q: AppQuery) =>
  q.calls === null ? q.source : `${q.calls.toLocaleString("en-US")} call${q.calls === 1 ? "" : "s"}`;

const excerpt = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
};

function fixFor(cause: Cause): string {
  const what = cause.object ? `${cause.noun} ${cause.object}` : "what the live code uses";
  const marker = `-- mai-gate: contract ${cause.object ?? "*"}`;
  return `Expand/contract: keep ${what} until the code that stops using it has shipped and no running binary (nor the one a rollback returns to) queries it; remove it in a later migration that says \`${marker}\`. For a rename: add the new name, write both, move the reads, then drop the old one.`;
}

/**
 * Queries that prepared before the branch's files and fail after one: red ("breaks queries the live
 * app runs (and any rollback)"), one finding per file and cause, most-called query first. A file
 * whose `-- mai-gate: contract` marker names the object makes it a warning. Queries that already
 * failed before are not the branch's doing and are left out.
 */
export function liveBinaryFindings(input: LiveBinaryInput): SiteFinding[] {
  const groups = new Map<string, { path: string; cause: Cause; queries: AppQuery[] }>();
  for (const b of input.outcome.broken) {
    const query = input.queries[b.index];
    if (!query) continue;
    const cause = causeOf(b, input.changes.get(b.path) ?? []);
    const key = `${b.path}\n${cause.key}`;
    const group = groups.get(key) ?? { path: b.path, cause, queries: [] };
    group.queries.push(query);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ path, cause, queries }) => {
    queries.sort((a, b) => (b.calls ?? -1) - (a.calls ?? -1));
    const top = queries[0]!;
    const more = queries.length > 1 ? ` and ${queries.length - 1} more` : "";
    const ack = acknowledging(input.acks.get(path) ?? [], "contract", cause.object);
    return {
      check: "live_binary",
      severity: ack ? "warning" : "red",
      file: path,
      line: cause.line ?? ack?.line ?? null,
      message: `breaks queries the live app runs (and any rollback): \`${excerpt(top.text)}\` (${calls(top)})${more} — ${cause.phrase}`,
      fix: fixFor(cause),
      acknowledged: ack?.text ?? null,
      queries: queries.slice(0, 10),
    };
  });
}
