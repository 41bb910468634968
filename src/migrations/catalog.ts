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

export type CatalogDefect =
  | { kind: "duplicate_version"; version: number; files: string[] }
  | { kind: "unparseable"; file: string; reason: string };

/** A migration directory read through a layout: entries in numeric order, and what is wrong with it. */
export interface Catalog {
  entries: CatalogEntry[];
  byVersion: Map<number, CatalogEntry[]>;
  defects: CatalogDefect[];
  /** Files that are not migrations (no `.sql`), ignored. */
  ignored: string[];
  maxVersion: number | null;
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
  const defects: CatalogDefect[] = [];
  const ignored: string[] = [];
  for (const { file, oid } of files) {
    const outcome = parseFileName(file, spec);
    if (outcome === null) ignored.push(file);
    else if (!outcome.ok) defects.push({ kind: "unparseable", file, reason: outcome.reason });
    else entries.push({ ...outcome.parsed, file, ...(oid ? { oid } : {}) });
  }
  entries.sort(compareEntries);
  const byVersion = new Map<number, CatalogEntry[]>();
  for (const e of entries) {
    const list = byVersion.get(e.version);
    if (list) list.push(e);
    else byVersion.set(e.version, [e]);
  }
  for (const [version, list] of byVersion) {
    if (isDuplicate(list))
      defects.push({ kind: "duplicate_version", version, files: list.map((e) => e.file) });
  }
  const last = entries.at(-1);
  return {
    entries,
    byVersion,
    defects,
    ignored,
    maxVersion: last ? last.version : null,
    style: inferStyle(entries, spec),
  };
}

/** One version may hold one up and one down file of the same name; anything more is a duplicate. */
function isDuplicate(list: CatalogEntry[]): boolean {
  if (list.length === 1) return false;
  const names = new Set(list.map((e) => e.name));
  if (names.size > 1) return true;
  const directions = list.map((e) => e.direction ?? "single");
  return new Set(directions).size !== directions.length;
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

const deltas = new WeakMap<Catalog, { main: Catalog; delta: CatalogEntry[] }>();

/**
 * A branch's forward migrations that main does not have under the same version and name: what the
 * branch adds. Memoised per (branch catalog, main catalog); both are cached per tree, so a rescan
 * after one branch moved recomputes only that branch.
 */
export function deltaAgainst(branch: Catalog, main: Catalog): CatalogEntry[] {
  const cached = deltas.get(branch);
  if (cached?.main === main) return cached.delta;
  const delta = branch.entries.filter(
    (e) => e.direction !== "down" && !(main.byVersion.get(e.version) ?? []).some((m) => m.name === e.name),
  );
  deltas.set(branch, { main, delta });
  return delta;
}
