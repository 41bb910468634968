import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { headSession, workerSession } from "../helpers/completion.js";
import { structured } from "../helpers/mcp.js";

/**
 * Gates judged side by side in one server (the head's review judges four at a time) need
 * production's dump at once: one dump serves them all, and none trips over another's file.
 */
describe("production's dump asked for by gates at once", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("four concurrent gates on a cold dump cache all answer, from one dump", async () => {
    const branches: string[] = [];
    for (const who of ["ava", "bea", "cal", "dee"]) {
      const w = await workerSession(app, `mai/${who}/x`);
      await w.commit({ [`${MIG_DIR}/0${10 + branches.length}_${who}.sql`]: "SELECT 1;\n" }, "work");
      await w.push();
      branches.push(w.branch);
    }
    const head = await headSession(app);
    const common = (await head.workspace.repo()).commonDir;
    await rm(join(common, "mai-gate", "baselines"), { recursive: true, force: true });
    const answers = await Promise.all(branches.map((branch) => head.call("gate_status", { branch })));
    for (const a of answers) {
      expect(a.isError, JSON.stringify(a.content)).toBeFalsy();
      const g = structured<{ conditions: { kind: string; detail: string }[] }>(a);
      expect(g.conditions.find((c) => c.kind === "dry_run")?.detail).toMatch(/no dry run/);
    }
  });
});
