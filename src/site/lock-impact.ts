import type { TableSize } from "../prod/sizes.js";
import { type Ack, acknowledging } from "./acks.js";
import type { StatementImpact } from "./lock-watch.js";
import type { LockMode, WorkKind } from "./statement-work.js";
import type { SiteFinding } from "./types.js";

/** What each blocking lock mode stops, in the words of a request to the site. */
const BLOCKS: Partial<Record<LockMode, string>> = {
  AccessExclusiveLock: "requests touching {t} wait for all of it",
  ExclusiveLock: "requests touching {t} (all but plain reads) wait for all of it",
  ShareRowExclusiveLock: "writes to {t} wait for all of it",
  ShareLock: "writes to {t} wait for all of it",
};

/** `AccessExclusiveLock` → `ACCESS EXCLUSIVE`. */
export function modeName(mode: string): string {
  return mode
    .replace(/Lock$/, "")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toUpperCase();
}

export function formatRows(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return n.toLocaleString("en-US");
}

export function formatSize(bytes: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

function workPhrase(i: StatementImpact): string {
  switch (i.work) {
    case "rewrite":
      return `with a table rewrite (${i.what})`;
    case "validation":
      return `with a validation scan (${i.what})`;
    case "index build":
      return `for an index build (${i.what})`;
    case "backfill":
      return `across an ${i.what} of its rows`;
  }
}

const FIXES: Record<WorkKind, string> = {
  rewrite:
    "Avoid the rewrite: add a new nullable column (no volatile default), backfill it in batches outside the migration's transaction, switch the code over, then drop the old column in a later migration.",
  validation:
    "Validate without the long lock: ADD CONSTRAINT … NOT VALID (for SET NOT NULL: CHECK (col IS NOT NULL) NOT VALID), then VALIDATE CONSTRAINT in a later migration (it takes only SHARE UPDATE EXCLUSIVE); SET NOT NULL then uses the valid check.",
  "index build":
    "Build the index with CREATE INDEX CONCURRENTLY in a file of its own (for a unique constraint: CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX).",
  backfill:
    "Backfill in batches outside the transaction that holds the table's lock: a nullable column first, the UPDATE in a later step, the constraint NOT VALID then VALIDATE.",
};

export interface LockInput {
  impacts: StatementImpact[];
  /** Production's sizes of the tables (tables it does not have are absent: they are new). */
  sizes: TableSize[];
  acks: Map<string, Ack[]>;
  maxRows: number;
}

const short = (table: string) => (table.startsWith("public.") ? table.slice(7) : table);

/**
 * Heavy work under a blocking lock on a table production holds more than `maxRows` rows of: red
 * ("ACCESS EXCLUSIVE on users (2.1 M rows, 850 MB) with a table rewrite: requests touching users wait
 * for all of it"), a warning when the file's `-- mai-gate: lock users` marker accepts it. Quick locks,
 * non-blocking modes (CONCURRENTLY, VALIDATE CONSTRAINT), small and new tables are not findings.
 */
export function lockFindings(input: LockInput): SiteFinding[] {
  const sizes = new Map(input.sizes.map((s) => [s.table, s]));
  const out: SiteFinding[] = [];
  const seen = new Set<string>();
  for (const i of input.impacts) {
    const blocks = BLOCKS[i.mode];
    const size = sizes.get(i.table);
    if (!blocks || !size || size.rows === null || size.rows <= input.maxRows) continue;
    const key = `${i.path}:${i.line}:${i.table}:${i.work}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const t = short(i.table);
    const ack = acknowledging(input.acks.get(i.path) ?? [], "lock", t.split(".").at(-1) ?? t);
    out.push({
      check: "lock",
      severity: ack ? "warning" : "red",
      file: i.path,
      line: i.line,
      message: `${modeName(i.mode)} on ${t} (${formatRows(size.rows)} rows, ${formatSize(size.bytes)}) ${workPhrase(i)}: ${blocks.replace("{t}", t)}`,
      fix: `${FIXES[i.work]} Start the file with SET lock_timeout = '5s' so a migration that cannot get its lock gives up instead of queueing every request behind it. Accept it (a maintenance window) with \`-- mai-gate: lock ${t}\`.`,
      acknowledged: ack?.text ?? null,
    });
  }
  return out;
}
