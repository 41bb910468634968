import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile, parseConfig } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/errors.js";

const source = { kind: "file" as const, path: "/repo/mai-gate.yaml" };

async function configError(run: () => unknown): Promise<ConfigError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

/** The "billion laughs": nine levels of ten aliases each, 10^9 strings once expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ..."bcdefghi".split("").map((k, i) => {
    const prev = "abcdefghi"[i]!;
    return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(",")}]`;
  }),
  "migrations: { dir: db }",
  "",
].join("\n");

describe("config files are bounded", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mai-gate-config-bounds-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("an alias bomb is a config error naming the file and the problem", async () => {
    const direct = await configError(() => parseConfig(ALIAS_BOMB, {}, source));
    expect(direct.code).toBe("config");
    expect(direct.message).toContain("/repo/mai-gate.yaml");
    expect(direct.message).toMatch(/alias/i);
    const path = join(dir, "bomb.yaml");
    await writeFile(path, ALIAS_BOMB);
    const loaded = await configError(() => loadConfigFile(path, {}));
    expect(loaded.message).toContain(path);
    expect(loaded.message).toContain("more than 100 alias expansions");
    expect(loaded.hint).toMatch(/alias/);
  });

  it("a few aliases are fine", () => {
    const ok = parseConfig("migrations: { dir: &d db }\nmain_branch: *d\n", {}, source);
    expect(ok.config.main_branch).toBe("db");
  });

  it("a file over 256 KiB is refused with the file named", async () => {
    const big = `migrations: { dir: db }\n# ${"x".repeat(300 * 1024)}\n`;
    const path = join(dir, "big.yaml");
    await writeFile(path, big);
    const err = await configError(() => loadConfigFile(path, {}));
    expect(err.message).toContain(path);
    expect(err.message).toContain("over the limit of 256 KiB");
    expect((await configError(() => parseConfig(big, {}, source))).message).toContain("256 KiB");
  });

  it("a FIFO given as --config is refused, not waited on", async () => {
    const fifo = join(dir, "fifo.yaml");
    execFileSync("mkfifo", [fifo]);
    const err = await configError(() => loadConfigFile(fifo, {}));
    expect(err.message).toContain(`cannot read ${fifo}: it is not a regular file`);
  });

  it("history_table must be a (schema-)qualified identifier, the key named", async () => {
    const withTable = (t: string) => `migrations: { dir: db, history_table: ${JSON.stringify(t)} }\n`;
    expect(
      parseConfig(withTable("paliad.applied_migrations"), {}, source).config.migrations.history_table,
    ).toBe("paliad.applied_migrations");
    expect(parseConfig(withTable("schema_migrations"), {}, source).config.migrations.history_table).toBe(
      "schema_migrations",
    );
    for (const bad of ["x; drop table y", "a.b.c", '"Quoted"', "1table", "", `t${"x".repeat(63)}`]) {
      const err = await configError(() => parseConfig(withTable(bad), {}, source));
      expect(err.key).toBe("migrations.history_table");
      expect(err.message).toContain("migrations.history_table: must be a table name or schema.table");
    }
  });
});
