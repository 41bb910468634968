import { describe, expect, it } from "vitest";
import { redactEnvRefs } from "../../../src/config/env-refs.js";
import { parseConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/errors.js";

const source = { kind: "file" as const, path: "mai-gate.yaml" };

function configErrorOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, env, source);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("mai-gate.yaml", () => {
  it("fills defaults", () => {
    const { config } = parseConfig("migrations: { dir: db/migrations }\n", {}, source);
    expect(config.main_branch).toBe("origin/main");
    expect(config.migrations).toMatchObject({ layout: "numbered", history_format: "rows", ordering: "set" });
    expect(config.leases.ttl_hours).toBe(72);
    expect(config.git.fetch_interval_seconds).toBe(5);
  });

  it("names the key of a wrong value", () => {
    const err = configErrorOf("migrations: { dir: x, layout: sequential }\n");
    expect(err.key).toBe("migrations.layout");
    expect(err.message).toContain("migrations.layout");
  });

  it("names a misspelt key", () => {
    const err = configErrorOf("migrations: { dir: x, laytou: numbered }\n");
    expect(err.message).toContain("migrations.laytou: unknown key");
  });

  it("names a missing required key", () => {
    expect(configErrorOf("main_branch: origin/main\n").message).toContain("migrations");
  });

  it("says where YAML is broken", () => {
    const err = configErrorOf("migrations:\n  dir: [unclosed\n");
    expect(err.message).toMatch(/not valid YAML \(line \d+\)/);
  });

  it("requires pattern and template for the custom layout, with named groups", () => {
    expect(configErrorOf("migrations: { dir: x, layout: custom }\n").message).toContain("migrations.pattern");
    const noGroups = configErrorOf(
      "migrations: { dir: x, layout: custom, pattern: '^(\\d+).sql$', template: '{version}_{name}.sql' }\n",
    );
    expect(noGroups.message).toContain("named groups");
  });

  it("reads env: values from the environment and never prints them", () => {
    const text = "migrations: { dir: x }\nprod: { dsn: env:PROD_RO_DSN }\n";
    const loaded = parseConfig(text, { PROD_RO_DSN: "postgres://secret@prod/db" }, source);
    expect(loaded.config.prod.dsn).toBe("postgres://secret@prod/db");
    const shown = JSON.stringify(redactEnvRefs(loaded.config, loaded.envRefs));
    expect(shown).not.toContain("secret");
    expect(shown).toContain("env:PROD_RO_DSN (set)");
  });

  it("leaves an optional env: value unset when its variable is missing, and says so", () => {
    const loaded = parseConfig("migrations: { dir: x }\nprod: { dsn: env:NOPE }\n", {}, source);
    expect(loaded.config.prod.dsn).toBeUndefined();
    expect(loaded.envRefs).toEqual([{ key: "prod.dsn", env: "NOPE", set: false }]);
  });

  it("names the variable when a required env: value is missing", () => {
    expect(configErrorOf("migrations: { dir: env:MIG_DIR }\n").message).toContain(
      "migrations.dir: env:MIG_DIR is not set",
    );
  });
});
