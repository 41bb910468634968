import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/errors.js";
import { parseFileName } from "../../../src/migrations/layout.js";

const source = { kind: "file" as const, path: "mai-gate.yaml" };
const custom = (pattern: string) => ({
  layout: "custom" as const,
  pattern,
  template: "{version}_{name}.sql",
});
const configWith = (pattern: string) =>
  `migrations:\n  dir: db\n  layout: custom\n  pattern: ${JSON.stringify(pattern)}\n  template: "{version}_{name}.sql"\n`;

function configError(text: string): ConfigError {
  try {
    parseConfig(text, {}, source);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("custom layout patterns run in a linear-time engine", () => {
  it("a catastrophic pattern on a 60-character name answers, matching and not matching correctly", () => {
    const spec = custom("^(?<version>\\d+)_(?<name>([a-z]+)+)\\.sql$");
    const name = "a".repeat(60);
    expect(parseFileName(`001_${name}.sql`, spec)).toEqual({
      ok: true,
      parsed: { version: 1, versionText: "001", name, direction: null },
    });
    // The backtracking engine took seconds at 33 characters and doubled with each one more.
    expect(parseFileName(`002_${name}!.sql`, spec)).toMatchObject({ ok: false, version: 2 });
  });

  it("keeps named groups, in the (?<name>…) and (?P<name>…) spellings, and an unmatched optional group", () => {
    const spec = custom("^V(?P<version>\\d+)(?:__(?<name>[a-z_]+))?\\.(?<direction>up|down)\\.sql$");
    expect(parseConfig(configWith(spec.pattern), {}, source).config.migrations.pattern).toBe(spec.pattern);
    expect(parseFileName("V7__add_users.up.sql", spec)).toMatchObject({
      ok: true,
      parsed: { version: 7, name: "add_users", direction: "up" },
    });
    expect(parseFileName("V8.down.sql", spec)).toMatchObject({
      ok: true,
      parsed: { version: 8, name: "", direction: "down" },
    });
  });

  it("refuses at config time a backreference or lookaround, with the key and the reason", () => {
    for (const pattern of [
      "^(?<version>\\d+)_(?<name>(a)\\3)\\.sql$",
      "^(?<version>\\d+)_(?<name>(?=x)\\w+)\\.sql$",
      "^(?<version>\\d+)_(?<name>(?<!x)\\w+)\\.sql$",
    ]) {
      const err = configError(configWith(pattern));
      expect(err.key).toBe("migrations.pattern");
      expect(err.message).toContain("migrations.pattern");
      expect(err.message).toMatch(/RE2.*(invalid|unsupported)/);
    }
  });

  it("still requires the version and name groups", () => {
    const err = configError(configWith("^(?<v>\\d+)_(?<n>\\w+)\\.sql$"));
    expect(err.message).toContain("named groups");
  });
});
