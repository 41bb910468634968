import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TemplateSpec } from "../../../src/dryrun/engine.js";
import { createPgEngine, type PgScratchEngine } from "../../../src/dryrun/pg-engine.js";
import { templateName, warmName } from "../../../src/dryrun/pg-scratch.js";
import { setupScratchRole } from "../../../src/dryrun/scratch-setup.js";
import { startCluster, type TestCluster } from "../../helpers/cluster.js";

/**
 * Eviction beyond scratch.keep, on a cluster of this file's own (eviction looks at every template
 * on its server, and other test files build theirs on the shared scratch server at the same time).
 */
const spec = (key: string): TemplateSpec => ({
  keys: [key],
  async buildBase(session) {
    await session.query("CREATE TABLE items (id int PRIMARY KEY, note text)");
  },
  async applyStep() {},
});
const key = () => randomBytes(16).toString("hex");

describe("scratch housekeeping: least recently used templates go beyond scratch.keep, never one in use", () => {
  let cluster: TestCluster;
  let runner: string;
  let admin: pg.Client;
  const engines: PgScratchEngine[] = [];
  const engine = (templates: number) => {
    const e = createPgEngine({ dsn: runner, keep: { templates, megabytes: 100_000 }, pinRecentMs: 0 });
    engines.push(e);
    return e;
  };
  const names = async () =>
    (
      await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'maigate%'")
    ).rows
      .map((r) => r.datname)
      .sort();

  beforeAll(async () => {
    cluster = await startCluster();
    runner = (await setupScratchRole(cluster.adminDsn)).dsn;
    admin = new pg.Client({ connectionString: cluster.adminDsn });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await admin?.end();
    await cluster?.stop();
  });

  it("keeps the most recently used, drops the rest with their warm clones, and lists what it keeps", async () => {
    const e = engine(2);
    const [a, b, c] = [key(), key(), key()];
    await e.ensureTemplate(spec(a));
    await new Promise((r) => setTimeout(r, 5));
    await e.ensureTemplate(spec(b));
    await e.withWarmClone(b, async (s) => s.query("SELECT 1"));
    await new Promise((r) => setTimeout(r, 5));
    expect((await e.ensureTemplate(spec(a))).builtFrom).toBe("cached");
    await new Promise((r) => setTimeout(r, 5));
    await e.ensureTemplate(spec(c));
    const left = await names();
    expect(left).toContain(templateName(a));
    expect(left).toContain(templateName(c));
    expect(left).not.toContain(templateName(b));
    expect(left).not.toContain(warmName(b, 0));
    const listed = await e.inventory();
    expect(listed.map((d) => d.name).sort()).toEqual(left);
    expect(listed.every((d) => d.bytes > 0)).toBe(true);
    expect(listed.find((d) => d.name === templateName(c))?.lastUsed).toBeGreaterThan(0);
  });

  it("never drops a template someone is cloning (a shared lock on its name)", async () => {
    const e = engine(1);
    const held = key();
    await e.ensureTemplate(spec(held));
    const cloner = new pg.Client({ connectionString: runner });
    await cloner.connect();
    try {
      await cloner.query("SELECT pg_advisory_lock_shared(hashtextextended($1, 0))", [templateName(held)]);
      const fresh = key();
      await e.ensureTemplate(spec(fresh));
      const left = await names();
      expect(left).toContain(templateName(held));
      expect(left).toContain(templateName(fresh));
      expect(left.filter((n) => n.startsWith("maigate_tpl_"))).toHaveLength(2);
    } finally {
      await cloner.end();
    }
  });
});
