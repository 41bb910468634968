import type { TreeEntry } from "../git/tree-scan.js";
import { type Direction, type LayoutSpec, type NamingStyle, parseFileName } from "./layout.js";

export interface CatalogEntry {
  version: number;
  versionText: string;
  name: string;
  direction: Direction | null;
  file: string;
  /** Git blob id of the content, when the entry came from git. */
  oid?: string;
}

/** A `.sql` file the layout cannot read. Its leading number, when it has one, is still taken. */
export interface UnparsedFile {
  file: string;
  oid?: string;
  version: number | null;
  reason: string;
}

export type CatalogDefect =
  | { kind: "duplicate_version"; version: number; files: string[] }
  | { kind: "unparseable"; file: string; reason: string; version: number | null };

/**
 * What holds a version in one tree: a forward migration file, or an unparseable file that starts
 * with the number (name null: it cannot be compared, so it clashes with every other name).
 */
export interface Holding {
  version: number;
  name: string | null;
  file: string;
  oid?: string;
  unparsed: boolean;
}

/** A migration directory read through a layout: entries in numeric order, and what is wrong with it. */
export interface Catalog {
  entries: CatalogEntry[];
  byVersion: Map<number, CatalogEntry[]>;
  unparsed: UnparsedFile[];
  defects: CatalogDefect[];
  /** Files that are not migrations (no `.sql`), ignored. */
  ignored: string[];
  /** The largest version of a readable migration file. */
  maxVersion: number | null;
  /** The largest version any file holds, unparseable files included: reservations start above it. */
  maxTaken: number | null;
  style: NamingStyle;
}

const BLOB_MODES = new Set(["100644", "100755", "120000"]);

export function catalogFromTree(entries: TreeEntry[], spec: LayoutSpec): Catalog {
  return buildCatalog(
    entries.filter((e) => BLOB_MODES.has(e.mode)).map((e) => ({ file: e.name, oid: e.oid })),
    spec,
  );
}

export function buildCatalog(files: { file: string; oid?: string }[], spec: LayoutSpec): Catalog {
  const entries: CatalogEntry[] = [];
  const unparsed: UnparsedFile[] = [];
  const ignored: string[] = [];
  for (const { file, oid } of files) {
    const outcome = parseFileName(file, spec);
    if (outcome === null) ignored.push(file);
    else if (!outcome.ok)
      unparsed.push({ file, version: outcome.version, reason: outcome.reason, ...(oid ? { oid } : {}) });
    else entries.push({ ...outcome.parsed, file, ...(oid ? { oid } : {}) });
  }
  entries.sort(compareEntries);
  const byVersion = new Map<number, CatalogEntry[]>();
  for (const e of entries) {
    const list = byVersion.get(e.version);
    if (list) list.push(e);
    else byVersion.set(e.version, [e]);
  }
  const defects: CatalogDefect[] = unparsed.map((u) => ({
    kind: "unparseable",
    file: u.file,
    reason: u.reason,
    version: u.version,
  }));
  if (spec.duplicates !== "allow") {
    for (const [version, list] of byVersion) {
      const files = duplicateFiles(list);
      if (files.length > 0) defects.push({ kind: "duplicate_version", version, files });
    }
  }
  const maxVersion = entries.at(-1)?.version ?? null;
  const numbers = [maxVersion, ...unparsed.map((u) => u.version)].filter((v): v is number => v !== null);
  return {
    entries,
    byVersion,
    unparsed,
    defects,
    ignored,
    maxVersion,
    maxTaken: numbers.length > 0 ? Math.max(...numbers) : null,
    style: inferStyle(entries, spec),
  };
}

/**
 * One version may hold one forward file and one down file, whatever their names (golang-migrate
 * pairs them by version: `30_add_x.up.sql` with `30_drop_x.down.sql`). Two forward files, or two
 * down files, of one version are a duplicate.
 */
export function isDuplicate(list: CatalogEntry[]): boolean {
  return duplicateFiles(list).length > 0;
}

/** The files of one version that duplicate each other: the forward ones, the down ones, or both. */
export function duplicateFiles(list: CatalogEntry[]): string[] {
  const forward = list.filter((e) => e.direction !== "down");
  const down = list.filter((e) => e.direction === "down");
  return [...(forward.length > 1 ? forward : []), ...(down.length > 1 ? down : [])].map((e) => e.file);
}

function compareEntries(a: CatalogEntry, b: CatalogEntry): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.direction !== b.direction) return a.direction === "up" ? -1 : 1;
  return a.file.localeCompare(b.file);
}

function inferStyle(entries: CatalogEntry[], spec: LayoutSpec): NamingStyle {
  const padded = entries.filter((e) => e.versionText.length > 1 && e.versionText.startsWith("0"));
  const width =
    spec.width ?? (padded.length > 0 ? Math.max(...padded.map((e) => e.versionText.length)) : null);
  const pairs =
    spec.layout === "golang-migrate" ||
    (spec.layout !== "numbered" && entries.some((e) => e.direction !== null)) ||
    (spec.layout === "custom" && (spec.template ?? "").includes("{direction}"));
  return { width, pairs };
}

/** Up (or single) files only: what a migrator applies forward. */
export function forwardEntries(catalog: Catalog): CatalogEntry[] {
  return catalog.entries.filter((e) => e.direction !== "down");
}

/** Everything in the tree that holds a version: forward files and numbered unparseable files. */
export function holdings(catalog: Catalog): Holding[] {
  const out: Holding[] = forwardEntries(catalog).map((e) => ({
    version: e.version,
    name: e.name,
    file: e.file,
    unparsed: false,
    ...(e.oid ? { oid: e.oid } : {}),
  }));
  for (const u of catalog.unparsed) {
    if (u.version !== null)
      out.push({
        version: u.version,
        name: null,
        file: u.file,
        unparsed: true,
        ...(u.oid ? { oid: u.oid } : {}),
      });
  }
  return out;
}

const deltas = new WeakMap<Catalog, { main: Catalog; delta: Holding[] }>();

/**
 * What a branch holds that main does not: forward migrations main lacks under the same version and
 * name, and numbered unparseable files main lacks by file name. `branch` is the catalog of the
 * branch's whole directory or only of the names main's lacks (what `git diff-tree` answers): the
 * answer is the same. Memoised per (branch catalog, main catalog); both are cached per tree, so a
 * rescan after one branch moved recomputes only that branch.
 */
export function deltaAgainst(branch: Catalog, main: Catalog): Holding[] {
  const cached = deltas.get(branch);
  if (cached?.main === main) return cached.delta;
  const mainFiles = new Set(main.unparsed.map((u) => u.file));
  const delta = holdings(branch).filter((h) =>
    h.unparsed
      ? !mainFiles.has(h.file)
      : !(main.byVersion.get(h.version) ?? []).some((m) => m.direction !== "down" && m.name === h.name),
  );
  deltas.set(branch, { main, delta });
  return delta;
}
