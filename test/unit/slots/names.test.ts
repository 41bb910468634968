import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/errors.js";
import { validateCount, validateMigrationName } from "../../../src/slots/names.js";

describe("migration names", () => {
  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["add user email", /not a valid migration name/],
    ["db/add_x", /contains a path separator/],
    ["..", /contains a path/],
    ["../../etc/passwd", /contains a path/],
    ["x".repeat(300), /300 characters/],
    ["_leading", /not a valid/],
    ["double__underscore", /not a valid/],
  ])("refuses %j", (name, message) => {
    expect(() => validateMigrationName(name)).toThrow(InputError);
    expect(() => validateMigrationName(name)).toThrow(message);
  });

  it("accepts snake_case and kebab-case names", () => {
    expect(validateMigrationName("add_user_email")).toBe("add_user_email");
    expect(validateMigrationName(" drop-rule-flags ")).toBe("drop-rule-flags");
  });

  it("suggests a usable name", () => {
    try {
      validateMigrationName("Add User Email!");
    } catch (err) {
      expect((err as InputError).hint).toContain('"add_user_email"');
    }
    expect.assertions(1);
  });

  it("bounds count", () => {
    expect(validateCount(undefined)).toBe(1);
    expect(validateCount(3)).toBe(3);
    for (const bad of [0, -1, 10_000, 1.5]) expect(() => validateCount(bad)).toThrow(/out of range/);
  });
});
