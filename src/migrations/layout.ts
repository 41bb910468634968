import type { MigrationsConfig } from "../config/schema.js";
import { matchGroups } from "./pattern.js";

export type Direction = "up" | "down";

/** What a file name says about a migration. `direction` is null for single-file layouts. */
export interface ParsedName {
  version: number;
  /** The version as written, with any zero padding. */
  versionText: string;
  name: string;
  direction: Direction | null;
}

/**
 * A file name read through a layout: parsed; or a `.sql` file the layout cannot read, with the
 * leading number it starts with (which still counts as taken: the app's migrator may run it anyway),
 * null when it has none or the number is out of range; or null for files that are not migrations.
 */
export type ParseOutcome =
  | { ok: true; parsed: ParsedName }
  | { ok: false; reason: string; version: number | null }
  | null;

export type LayoutSpec = Pick<MigrationsConfig, "layout" | "pattern" | "template" | "width"> & {
  duplicates?: MigrationsConfig["duplicates"];
};

const NUMBERED = /^(\d+)_(.+)\.sql$/;
const GOLANG_MIGRATE = /^(\d+)_(.+)\.(up|down)\.sql$/;
const TIMESTAMP = /^(\d{14})_(.+?)(?:\.(up|down))?\.sql$/;

/**
 * Reads (version, name, direction) from a file name. Returns null for files that are not
 * migrations at all (a README beside them), and a reason for `.sql` files the layout cannot read.
 */
export function parseFileName(file: string, spec: LayoutSpec): ParseOutcome {
  if (spec.layout === "custom") return parseCustom(file, spec);
  if (!file.endsWith(".sql")) return null;
  const re =
    spec.layout === "numbered" ? NUMBERED : spec.layout === "golang-migrate" ? GOLANG_MIGRATE : TIMESTAMP;
  const m = re.exec(file);
  if (!m) return unparseable(file, expectedShape(spec.layout), spec);
  return build(m[1]!, m[2]!, (m[3] as Direction | undefined) ?? null, spec);
}

function parseCustom(file: string, spec: LayoutSpec): ParseOutcome {
  const pattern = spec.pattern!;
  const groups = matchGroups(pattern, file);
  if (!groups)
    return file.endsWith(".sql") ? unparseable(file, `does not match the pattern ${pattern}`, spec) : null;
  const { version, name, direction } = groups;
  if (!version || !/^\d+$/.test(version)) return unparseable(file, "the version group is not a number", spec);
  const dir = direction?.toLowerCase();
  if (dir !== undefined && dir !== "up" && dir !== "down") {
    return unparseable(file, `direction must be up or down, not ${direction}`, spec);
  }
  // The name group may be optional (`0157.up.sql`): a migration without a name is named "".
  return build(version, name ?? "", (dir as Direction | undefined) ?? null, spec);
}

/** The largest version a file may have: beyond it, numbers stop comparing exactly. */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;

function build(
  versionText: string,
  name: string,
  direction: Direction | null,
  spec: LayoutSpec,
): ParseOutcome {
  const version = Number(versionText);
  if (!Number.isSafeInteger(version)) {
    return {
      ok: false,
      reason: `version ${versionText} is beyond 2^53-1 and cannot be compared exactly`,
      version: null,
    };
  }
  if (wider(versionText, spec)) {
    return {
      ok: false,
      reason: `version ${versionText} has more than migrations.width (${spec.width}) digits`,
      version: null,
    };
  }
  return { ok: true, parsed: { version, versionText, name, direction } };
}

/**
 * A `.sql` file the layout cannot read; its leading number, if any, still holds that version, unless
 * it is beyond 2^53-1 or has more digits than an explicit `migrations.width` (like a readable name).
 */
function unparseable(file: string, reason: string, spec: LayoutSpec): ParseOutcome {
  const digits = /^\d+/.exec(file)?.[0];
  const version = digits === undefined ? null : Number(digits);
  const held = version !== null && Number.isSafeInteger(version) && !wider(digits!, spec);
  return { ok: false, reason, version: held ? version : null };
}

/** Whether a version text has more digits (zero padding aside) than an explicit width allows. */
function wider(versionText: string, spec: LayoutSpec): boolean {
  return spec.width !== undefined && versionText.replace(/^0+(?=\d)/, "").length > spec.width;
}

function expectedShape(layout: MigrationsConfig["layout"]): string {
  switch (layout) {
    case "numbered":
      return "expected <version>_<name>.sql, e.g. 123_add_index.sql";
    case "golang-migrate":
      return "expected <version>_<name>.up.sql or .down.sql";
    default:
      return "expected <YYYYMMDDHHMMSS>_<name>.sql or .up.sql/.down.sql";
  }
}

/** How new files should look, learnt from main's files where the config does not say. */
export interface NamingStyle {
  /** Zero-pad versions to this many digits; null for no padding. */
  width: number | null;
  /** Create an up and a down file (golang-migrate, or a timestamp/custom layout that uses them). */
  pairs: boolean;
}

export function formatVersion(version: number, style: NamingStyle): string {
  const text = String(version);
  return style.width ? text.padStart(style.width, "0") : text;
}

/** The file name(s) to create for a reserved version, up before down. */
export function fileNamesFor(version: number, name: string, spec: LayoutSpec, style: NamingStyle): string[] {
  const v = formatVersion(version, style);
  switch (spec.layout) {
    case "numbered":
      return [`${v}_${name}.sql`];
    case "golang-migrate":
      return [`${v}_${name}.up.sql`, `${v}_${name}.down.sql`];
    case "timestamp":
      return style.pairs ? [`${v}_${name}.up.sql`, `${v}_${name}.down.sql`] : [`${v}_${name}.sql`];
    case "custom": {
      const base = spec.template!.replaceAll("{version}", v).replaceAll("{name}", name);
      return base.includes("{direction}")
        ? [base.replaceAll("{direction}", "up"), base.replaceAll("{direction}", "down")]
        : [base];
    }
  }
}

/** `YYYYMMDDHHMMSS` in UTC, the version a timestamp layout reserves. */
export function timestampVersion(ms: number): number {
  const iso = new Date(ms).toISOString();
  return Number(iso.slice(0, 19).replace(/[-T:]/g, ""));
}
