import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

interface Settings {
  env?: Record<string, string>;
  hooks: Record<string, { matcher?: string; hooks: { type: string; command: string }[] }[]>;
}

describe("examples/claude-settings.json", () => {
  const settings = JSON.parse(
    readFileSync(new URL("../../../examples/claude-settings.json", import.meta.url), "utf8"),
  ) as Settings;
  const commands = (event: string) =>
    (settings.hooks[event] ?? []).flatMap((m) => m.hooks.map((h) => h.command));

  it("installs the shim at session start, and wires the PreToolUse and Stop hooks", () => {
    expect(commands("SessionStart")).toEqual(["mai-gate shim install"]);
    expect(commands("PreToolUse")).toEqual(["mai-gate hook pre-tool-use"]);
    expect(settings.hooks.PreToolUse?.[0]?.matcher).toBe("Bash");
    expect(commands("Stop")).toEqual(["mai-gate hook stop"]);
  });

  it("does not set PATH through env, whose values some clients take literally", () => {
    expect(settings.env?.PATH).toBeUndefined();
  });
});
