import { describe, expect, it } from "vitest";
import { migrationsSchema } from "../../../src/config/schema.js";
import { buildCatalog, deltaAgainst, holdings, isDuplicate } from "../../../src/migrations/catalog.js";
import { fileNamesFor, parseFileName, timestampVersion } from "../../../src/migrations/layout.js";
import { summarizeTaken } from "../../../src/slots/holders.js";
import { repoState } from "../../helpers/facts.js";

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

describe("catalog truths: unreadable names hold their number", () => {
  it("a numbered file without a name (057.sql) is a defect that still holds 57", () => {
    const outcome = parseFileName("057.sql", { layout: "numbered" });
    expect(outcome).toMatchObject({ ok: false, version: 57 });
    const catalog = buildCatalog(files(["001_init.sql", "002_b.sql", "057.sql"]), { layout: "numbered" });
    expect(catalog.maxVersion).toBe(2);
    expect(catalog.maxTaken).toBe(57);
    expect(catalog.defects).toEqual([
      { kind: "unparseable", file: "057.sql", reason: expect.stringContaining("expected"), version: 57 },
    ]);
    expect(holdings(catalog).map((h) => [h.version, h.name, h.file, h.unparsed])).toEqual([
      [1, "init", "001_init.sql", false],
      [2, "b", "002_b.sql", false],
      [57, null, "057.sql", true],
    ]);
  });

  it("golang-migrate: a bare 0157.up.sql and an 0158_add_x_up.sql typo hold 157 and 158", () => {
    const spec = { layout: "golang-migrate" as const };
    expect(parseFileName("0157.up.sql", spec)).toMatchObject({ ok: false, version: 157 });
    expect(parseFileName("0158_add_x_up.sql", spec)).toMatchObject({ ok: false, version: 158 });
    const catalog = buildCatalog(
      files(["0001_init.up.sql", "0001_init.down.sql", "0157.up.sql", "0158_add_x_up.sql"]),
      spec,
    );
    expect(catalog.maxVersion).toBe(1);
    expect(catalog.maxTaken).toBe(158);
    expect(catalog.defects.map((d) => (d.kind === "unparseable" ? [d.file, d.version] : d.kind))).toEqual([
      ["0157.up.sql", 157],
      ["0158_add_x_up.sql", 158],
    ]);
  });

  it("a .sql file without a leading number is a defect holding nothing; a README is not a migration", () => {
    const catalog = buildCatalog(files(["001_init.sql", "abc.sql", "README.md"]), { layout: "numbered" });
    expect(catalog.unparsed).toEqual([{ file: "abc.sql", version: null, reason: expect.any(String) }]);
    expect(catalog.ignored).toEqual(["README.md"]);
    expect(catalog.maxTaken).toBe(1);
    expect(holdings(catalog).map((h) => h.file)).toEqual(["001_init.sql"]);
  });

  it("a branch's unreadable file is in its delta against main; main's own unreadable file is not", () => {
    const main = buildCatalog(files(["001_init.sql", "040.sql"]), { layout: "numbered" });
    const branch = buildCatalog(files(["001_init.sql", "040.sql", "057.sql"]), { layout: "numbered" });
    expect(deltaAgainst(branch, main).map((h) => [h.version, h.name, h.file])).toEqual([
      [57, null, "057.sql"],
    ]);
  });
});

describe("catalog truths: versions compare exactly", () => {
  it("2^53-1 is a version; 2^53 and beyond are defects that hold no number (not a rounded one)", () => {
    const spec = { layout: "numbered" as const };
    expect(parseFileName(`${Number.MAX_SAFE_INTEGER}_x.sql`, spec)).toMatchObject({
      ok: true,
      parsed: { version: Number.MAX_SAFE_INTEGER },
    });
    for (const file of ["9007199254740992_x.sql", "9007199254740993_x.sql", "99999999999999999999_x.sql"]) {
      expect(parseFileName(file, spec)).toEqual({
        ok: false,
        reason: expect.stringContaining("2^53-1"),
        version: null,
      });
    }
    expect(parseFileName("99999999999999999999.sql", spec)).toMatchObject({ ok: false, version: null });
  });

  it("a version beyond 2^53-1 is a defect at its file and does not raise maxTaken", () => {
    const catalog = buildCatalog(
      files(["001_init.sql", "002_b.sql", "99999999999999999999_x.sql", "9007199254740993_y.sql"]),
      { layout: "numbered" },
    );
    expect(catalog.maxTaken).toBe(2);
    expect(catalog.maxVersion).toBe(2);
    expect(catalog.defects.map((d) => (d.kind === "unparseable" ? [d.file, d.version] : d.kind))).toEqual([
      ["99999999999999999999_x.sql", null],
      ["9007199254740993_y.sql", null],
    ]);
    expect(holdings(catalog).map((h) => h.version)).toEqual([1, 2]);
  });

  it("two versions that round to one double are not a duplicate of each other", () => {
    const catalog = buildCatalog(files(["9007199254740992_a.sql", "9007199254740993_b.sql"]), {
      layout: "numbered",
    });
    expect(catalog.defects.map((d) => d.kind)).toEqual(["unparseable", "unparseable"]);
    expect(catalog.byVersion.size).toBe(0);
  });

  it("a branch file beyond 2^53-1 does not raise taken.max: others keep reserving normal versions", () => {
    const state = repoState({
      main: ["001_a.sql", "002_b.sql"],
      branches: { "origin/mai/odd/x": ["001_a.sql", "002_b.sql", "99999999999999999999_x.sql"] },
      production: [
        [1, "a"],
        [2, "b"],
      ],
    });
    expect(state.branches[0]!.catalog.defects).toEqual([
      expect.objectContaining({ kind: "unparseable", file: "99999999999999999999_x.sql", version: null }),
    ]);
    expect(summarizeTaken(state, []).max).toBe(2);
    const unreadable = repoState({
      main: ["001_a.sql"],
      branches: { "origin/mai/odd/y": ["001_a.sql", "057.sql"] },
    });
    expect(summarizeTaken(unreadable, []).max).toBe(57);
  });
});

describe("catalog truths: an explicit migrations.width caps versions", () => {
  const spec = { layout: "numbered" as const, width: 4 };

  it("a file with more digits than the width is a defect holding no number", () => {
    expect(parseFileName("0123_x.sql", spec)).toMatchObject({ ok: true, parsed: { version: 123 } });
    expect(parseFileName("9999_x.sql", spec)).toMatchObject({ ok: true, parsed: { version: 9999 } });
    expect(parseFileName("12345_x.sql", spec)).toEqual({
      ok: false,
      reason: expect.stringContaining("migrations.width (4)"),
      version: null,
    });
    const catalog = buildCatalog(files(["0001_a.sql", "12345_x.sql"]), spec);
    expect(catalog.maxTaken).toBe(1);
    expect(catalog.defects).toEqual([
      expect.objectContaining({ kind: "unparseable", file: "12345_x.sql", version: null }),
    ]);
  });

  it("an unreadable file with more digits than the width holds no number either", () => {
    expect(parseFileName("12345.sql", spec)).toMatchObject({ ok: false, version: null });
    expect(parseFileName("0057.sql", spec)).toMatchObject({ ok: false, version: 57 });
    expect(buildCatalog(files(["0001_a.sql", "12345.sql"]), spec).maxTaken).toBe(1);
  });
});

describe("catalog truths: up and down files pair by version", () => {
  const spec = { layout: "golang-migrate" as const };

  it("golang-migrate pairs 30_add_x.up.sql with 30_drop_x.down.sql: no duplicate, one holding", () => {
    const catalog = buildCatalog(
      files(["30_add_x.up.sql", "30_drop_x.down.sql", "31_y.up.sql", "31_y.down.sql"]),
      spec,
    );
    expect(catalog.defects).toEqual([]);
    expect(isDuplicate(catalog.byVersion.get(30)!)).toBe(false);
    expect(holdings(catalog).map((h) => [h.version, h.file])).toEqual([
      [30, "30_add_x.up.sql"],
      [31, "31_y.up.sql"],
    ]);
    expect(catalog.maxTaken).toBe(31);
  });

  it("two up files or two down files of one version are a duplicate of just those files", () => {
    const ups = buildCatalog(files(["30_add_x.up.sql", "30_add_y.up.sql", "30_drop_x.down.sql"]), spec);
    expect(ups.defects).toEqual([
      { kind: "duplicate_version", version: 30, files: ["30_add_x.up.sql", "30_add_y.up.sql"] },
    ]);
    const downs = buildCatalog(files(["30_add_x.up.sql", "30_drop_x.down.sql", "30_undo_x.down.sql"]), spec);
    expect(downs.defects).toEqual([
      { kind: "duplicate_version", version: 30, files: ["30_drop_x.down.sql", "30_undo_x.down.sql"] },
    ]);
  });

  it("a branch's differently named down file is not in its delta against main", () => {
    const main = buildCatalog(files(["30_add_x.up.sql", "30_add_x.down.sql"]), spec);
    const branch = buildCatalog(
      files(["30_add_x.up.sql", "30_add_x.down.sql", "31_add_y.up.sql", "31_remove_y.down.sql"]),
      spec,
    );
    expect(deltaAgainst(branch, main).map((h) => h.file)).toEqual(["31_add_y.up.sql"]);
  });
});

describe("catalog truths: the duplicates policy", () => {
  it("duplicates: allow suppresses duplicate defects, not unreadable ones", () => {
    const names = files(["005_a.sql", "005_b.sql", "057.sql"]);
    expect(buildCatalog(names, { layout: "numbered" }).defects.map((d) => d.kind)).toEqual([
      "unparseable",
      "duplicate_version",
    ]);
    const allowed = buildCatalog(names, { layout: "numbered", duplicates: "allow" });
    expect(allowed.defects).toEqual([expect.objectContaining({ kind: "unparseable", file: "057.sql" })]);
    expect(allowed.byVersion.get(5)!.map((e) => e.file)).toEqual(["005_a.sql", "005_b.sql"]);
    expect(allowed.maxTaken).toBe(57);
  });
});

describe("catalog truths: a custom layout's name group may be optional", () => {
  const spec = {
    layout: "custom" as const,
    pattern: "^(?<version>\\d+)(?:_(?<name>.+?))?\\.(?<direction>up|down)\\.sql$",
    template: "{version}_{name}.{direction}.sql",
  };

  it("the config accepts the pattern", () => {
    expect(migrationsSchema.safeParse({ dir: "db", ...spec }).success).toBe(true);
  });

  it('reads 0157.up.sql as version 157 named "", and a named file with its name', () => {
    expect(parseFileName("0157.up.sql", spec)).toEqual({
      ok: true,
      parsed: { version: 157, versionText: "0157", name: "", direction: "up" },
    });
    expect(parseFileName("0158_add_x.down.sql", spec)).toEqual({
      ok: true,
      parsed: { version: 158, versionText: "0158", name: "add_x", direction: "down" },
    });
    expect(parseFileName("0159_add_x.sql", spec)).toMatchObject({ ok: false, version: 159 });
    const catalog = buildCatalog(files(["0157.up.sql", "0157.down.sql", "0158_add_x.up.sql"]), spec);
    expect(catalog.defects).toEqual([]);
    expect(catalog.maxTaken).toBe(158);
    expect(catalog.style).toEqual({ width: 4, pairs: true });
  });
});
