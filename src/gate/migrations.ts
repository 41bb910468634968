import { posix } from "node:path";
import type { CommittedChange } from "../git/changes.js";
import { type LayoutSpec, type ParsedName, parseFileName } from "../migrations/layout.js";

/** A migration file the branch added (relative to its merge base with main), at the judged commit. */
export interface AddedMigration {
  path: string;
  /** The name read through the layout; null when it cannot be read. */
  parsed: ParsedName | null;
  /** Why the layout cannot read it, and the leading number it still holds (null: none). */
  unparsed: { reason: string; version: number | null } | null;
  /** Git's file mode: 120000 is a symlink, which is not a migration file. */
  mode: string;
  oid: string;
}

/** A migration main already has (at the merge base) that the branch changed: never allowed. */
export interface EditedMigration {
  path: string;
  change: "modified" | "mode_changed" | "type_changed" | "renamed" | "deleted";
  to: string | null;
}

export interface BranchChanges {
  /** New forward migration files: what needs a lease and a dry run, in version order. */
  added: AddedMigration[];
  edited: EditedMigration[];
}

export const SYMLINK_MODE = "120000";

/**
 * Splits the committed changes under the migration directory into new files and edits of files
 * main already had. Down files are never applied forward: new ones need nothing, edits of them are
 * harmless. Files the layout ignores (a README) are ignored.
 */
export function classifyChanges(changes: CommittedChange[], spec: LayoutSpec): BranchChanges {
  const added: AddedMigration[] = [];
  const edited: EditedMigration[] = [];
  const read = (path: string) => parseFileName(posix.basename(path), spec);
  const isDown = (path: string) => {
    const p = read(path);
    return p?.ok === true && p.parsed.direction === "down";
  };
  for (const c of changes) {
    if (c.status === "R") edited.push({ path: c.from!, change: "renamed", to: c.path });
    else if (c.status === "D") edited.push({ path: c.path, change: "deleted", to: null });
    else if (c.status === "T") edited.push({ path: c.path, change: "type_changed", to: null });
    else if (c.status === "M")
      edited.push({
        path: c.path,
        change: c.oldMode !== c.newMode && c.oldOid === c.oid ? "mode_changed" : "modified",
        to: null,
      });
    if (c.status !== "A" && c.status !== "C" && c.status !== "R") continue;
    const outcome = read(c.path);
    if (outcome === null || isDown(c.path)) continue;
    added.push({
      path: c.path,
      parsed: outcome.ok ? outcome.parsed : null,
      unparsed: outcome.ok ? null : { reason: outcome.reason, version: outcome.version },
      mode: c.newMode,
      oid: c.oid,
    });
  }
  const relevant = edited.filter((e) => read(e.path) !== null && !isDown(e.path));
  added.sort((a, b) => versionOf(a) - versionOf(b) || a.path.localeCompare(b.path));
  return { added, edited: relevant };
}

/** The version a new file holds: its parsed version, else its leading number, else none. */
export function versionOf(file: AddedMigration): number {
  return file.parsed?.version ?? file.unparsed?.version ?? Number.MAX_SAFE_INTEGER;
}
