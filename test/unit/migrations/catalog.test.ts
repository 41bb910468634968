import { describe, expect, it } from "vitest";
import { buildCatalog } from "../../../src/migrations/catalog.js";
import { fileNamesFor, parseFileName, timestampVersion } from "../../../src/migrations/layout.js";

const files = (names: string[]) => names.map((file) => ({ file }));

describe("migration catalog", () => {
  it("orders golang-migrate versions numerically: 124 after 99 and 9", () => {
    const names: string[] = [];
    for (let v = 1; v <= 124; v++) names.push(`${v}_m${v}.up.sql`, `${v}_m${v}.down.sql`);
    const catalog = buildCatalog(files(names.reverse()), { layout: "golang-migrate" });
    const versions = catalog.entries.filter((e) => e.direction === "up").map((e) => e.version);
    expect(versions).toEqual(Array.from({ length: 124 }, (_, i) => i + 1));
    expect(versions.indexOf(124)).toBeGreaterThan(versions.indexOf(99));
    expect(versions.indexOf(99)).toBeGreaterThan(versions.indexOf(9));
    expect(catalog.maxVersion).toBe(124);
    expect(catalog.defects).toEqual([]);
    expect(catalog.style).toEqual({ width: null, pairs: true });
  });

  it("reports two files with one version and names it a duplicate", () => {
    const catalog = buildCatalog(files(["122_a.sql", "123_backups.sql", "123_other.sql"]), {
      layout: "numbered",
    });
    expect(catalog.defects).toEqual([
      { kind: "duplicate_version", version: 123, files: ["123_backups.sql", "123_other.sql"] },
    ]);
  });

  it("accepts an up and a down file of one version but not two ups", () => {
    const ok = buildCatalog(files(["5_x.up.sql", "5_x.down.sql"]), { layout: "golang-migrate" });
    expect(ok.defects).toEqual([]);
    const bad = buildCatalog(files(["5_x.up.sql", "5_y.up.sql"]), { layout: "golang-migrate" });
    expect(bad.defects).toHaveLength(1);
  });

  it("reports unparseable .sql files and ignores other files", () => {
    const catalog = buildCatalog(files(["README.md", "abc.sql", "001_init.sql", "2_x.up.sql"]), {
      layout: "numbered",
    });
    expect(catalog.ignored).toEqual(["README.md"]);
    expect(catalog.defects.map((d) => (d.kind === "unparseable" ? d.file : ""))).toEqual(["abc.sql"]);
    expect(catalog.entries.map((e) => [e.version, e.name])).toEqual([
      [1, "init"],
      [2, "x.up"],
    ]);
  });

  it("golang-migrate refuses files without up/down", () => {
    expect(parseFileName("12_x.sql", { layout: "golang-migrate" })).toMatchObject({ ok: false });
  });

  it("reads timestamp layouts with and without up/down", () => {
    expect(parseFileName("20250101120000_add.sql", { layout: "timestamp" })).toMatchObject({
      ok: true,
      parsed: { version: 20250101120000, name: "add", direction: null },
    });
    expect(parseFileName("20250101120000_add.up.sql", { layout: "timestamp" })).toMatchObject({
      ok: true,
      parsed: { name: "add", direction: "up" },
    });
    expect(parseFileName("2025_add.sql", { layout: "timestamp" })).toMatchObject({ ok: false });
    expect(timestampVersion(Date.UTC(2026, 10, 25, 17, 3, 9))).toBe(20261125170309);
  });

  it("reads a custom layout through its named groups and writes through its template", () => {
    const spec = {
      layout: "custom" as const,
      pattern: "^V(?<version>\\d+)__(?<name>[a-z0-9_]+)\\.sql$",
      template: "V{version}__{name}.sql",
    };
    expect(parseFileName("V7__add_users.sql", spec)).toMatchObject({
      ok: true,
      parsed: { version: 7, name: "add_users" },
    });
    expect(parseFileName("V7_add_users.sql", spec)).toMatchObject({ ok: false });
    expect(parseFileName("notes.txt", spec)).toBeNull();
    expect(fileNamesFor(8, "drop_x", spec, { width: null, pairs: false })).toEqual(["V8__drop_x.sql"]);
  });

  it("pads new versions as main pads them", () => {
    const catalog = buildCatalog(files(["0001_init.sql", "0091_drop_rule_flags.sql"]), {
      layout: "numbered",
    });
    expect(catalog.style.width).toBe(4);
    expect(fileNamesFor(92, "add", { layout: "numbered" }, catalog.style)).toEqual(["0092_add.sql"]);
    expect(fileNamesFor(125, "x", { layout: "golang-migrate" }, { width: null, pairs: true })).toEqual([
      "125_x.up.sql",
      "125_x.down.sql",
    ]);
  });

  it("treats versions beyond 2^53 as unparseable, not as a rounded number", () => {
    expect(parseFileName("99999999999999999999_x.sql", { layout: "numbered" })).toMatchObject({ ok: false });
  });
});
