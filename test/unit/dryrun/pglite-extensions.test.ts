import { describe, expect, it } from "vitest";
import type { Baseline } from "../../../src/dryrun/baseline.js";
import { RehearsalLimitError } from "../../../src/dryrun/engine.js";
import { createdExtensions, extensionSet } from "../../../src/dryrun/pglite-extensions.js";
import { analyzeSql } from "../../../src/dryrun/sql.js";
import { baselineExtensions } from "../../../src/dryrun/templates.js";

const migration = (path: string, text: string) => ({ path, version: 1, name: "m", sha256: path, text });

describe("the extensions a rehearsal loads on PGlite", () => {
  it("finds CREATE EXTENSION statements with the parser, not in comments or strings", async () => {
    const sql = `-- CREATE EXTENSION hstore;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;
SELECT 'CREATE EXTENSION ltree';
create extension pg_trgm;`;
    expect(createdExtensions((await analyzeSql(sql)).statements)).toEqual(["uuid-ossp", "pg_trgm"]);
  });

  it("reads the prelude (with a dump's extension lines) and main's pending migrations", async () => {
    const baseline = {
      id: "b",
      runner: "pglite",
      prelude: ["CREATE EXTENSION IF NOT EXISTS citext;", "CREATE SCHEMA app"],
      pending: [
        migration("m/002.sql", "CREATE EXTENSION btree_gin;\nCREATE TABLE x (id int);"),
        migration("m/003.sql", "this does not parse"),
      ],
    } as unknown as Baseline;
    expect((await baselineExtensions(baseline)).sort()).toEqual(["btree_gin", "citext"]);
  });

  it("adds what an extension requires, skips built-ins, and calls a missing one a rehearsal limit", () => {
    expect(extensionSet(["earthdistance", "plpgsql", "uuid-ossp", "pgcrypto"])).toEqual([
      "cube",
      "earthdistance",
      "pgcrypto",
      "uuid-ossp",
    ]);
    expect(() => extensionSet(["postgis"])).toThrow(RehearsalLimitError);
    expect(() => extensionSet(["postgis"])).toThrow(/cannot rehearse here: extension postgis/);
  });
});
