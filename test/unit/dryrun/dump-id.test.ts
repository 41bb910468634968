import { describe, expect, it } from "vitest";
import { dumpId } from "../../../src/dryrun/baseline.js";

describe("a production dump's identity", () => {
  const dump = (key: string, table = "t") =>
    `--\n-- PostgreSQL database dump\n--\n\\restrict ${key}\nCREATE TABLE public.${table} (id bigint);\n\\unrestrict ${key}\n`;

  it("is the same for two dumps of one schema that differ only in pg_dump's random \\restrict key", () => {
    expect(dumpId(dump("k1aB"))).toBe(dumpId(dump("Zq9x")));
  });

  it("changes when the schema does", () => {
    expect(dumpId(dump("k1aB"))).not.toBe(dumpId(dump("k1aB", "u")));
  });
});
