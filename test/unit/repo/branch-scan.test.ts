import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGit } from "../../../src/git/git.js";
import { entriesAddedOver } from "../../../src/git/tree-diff.js";
import { silentLogger } from "../../../src/log.js";
import { gatherRepoState, type RepoState } from "../../../src/repo/state.js";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../../src/sandbox/git-sandbox.js";
import { Workspace } from "../../../src/workspace.js";

const DIR = "db/migrations";

/** Per branch: the versions and names it adds over main, as the slot rules see them. */
function adds(state: RepoState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [version, list] of state.branchAdds) {
    for (const { ref, entry } of list) {
      out[ref] = [...(out[ref] ?? []), `${version}:${entry.name ?? entry.file}`];
    }
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

describe("branch scans: what each branch adds over main, read in one git process and kept in the store", () => {
  let sandbox: GitSandbox;
  const open = () =>
    new Workspace({
      cwd: sandbox.host,
      env: { MAI_WORKER: "scan", MAI_ROLE: "head" },
      logger: silentLogger(),
    });

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      files: numberedMigrations(DIR, 5),
    });
    await sandbox.pushBranch("mai/ann/add", { [`${DIR}/006_ann.sql`]: "SELECT 6;\n" });
    await sandbox.pushBranch("mai/bob/edit", { [`${DIR}/002_step_2.sql`]: "SELECT 'edited';\n" });
    await sandbox.pushBranch("mai/cat/odd", {
      [`${DIR}/057.sql`]: "SELECT 57;\n",
      [`${DIR}/old/009_nested.sql`]: "SELECT 9;\n",
      [`${DIR}/README.md`]: "notes\n",
    });
    await sandbox.pushBranch("mai/dan/none", { "src/app.go": "package app\n" });
    await sandbox.fetchHost();
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("git diff-tree answers only the names a tree adds: not edits, not subdirectories' contents", async () => {
    const git = createGit(sandbox.host);
    const tree = async (ref: string) => (await git.run(["rev-parse", `${ref}:${DIR}`])).stdout.trim();
    const main = await tree("origin/main");
    const [ann, bob, cat, dan] = await Promise.all(
      ["origin/mai/ann/add", "origin/mai/bob/edit", "origin/mai/cat/odd", "origin/mai/dan/none"].map(tree),
    );
    const added = await entriesAddedOver(git, main, [ann!, bob!, cat!, dan!]);
    expect(added.get(ann!)?.map((e) => e.name)).toEqual(["006_ann.sql"]);
    expect(added.get(bob!)).toEqual([]);
    expect(added.get(cat!)?.map((e) => [e.name, e.mode])).toEqual([
      ["057.sql", "100644"],
      ["README.md", "100644"],
      ["old", "040000"],
    ]);
    expect(dan).toBe(main);
    expect(added.get(dan!)).toEqual([]);
  });

  it("the slot rules see each branch's additions; an edit of main's file is not one", async () => {
    const ws = open();
    try {
      const state = await gatherRepoState(ws, { fetch: false });
      expect(adds(state)).toEqual({ "origin/mai/ann/add": ["6:ann"], "origin/mai/cat/odd": ["57:057.sql"] });
      expect(state.branches.map((b) => b.ref).sort()).toContain("origin/mai/dan/none");
    } finally {
      await ws.close();
    }
  });

  it("a new process answers from the store, and still sees a branch that moved and a main that moved", async () => {
    const first = open();
    let stored: string | undefined;
    try {
      const state = await gatherRepoState(first, { fetch: false });
      stored = (await state.store.getShared(`branch-scan:${DIR}`))?.value;
    } finally {
      await first.close();
    }
    const saved = JSON.parse(stored ?? "{}") as { base: string; trees: Record<string, unknown> };
    expect(Object.keys(saved.trees).length).toBeGreaterThanOrEqual(3);

    await sandbox.pushBranch("mai/ann/add", {
      [`${DIR}/006_ann.sql`]: "SELECT 6;\n",
      [`${DIR}/007_ann_more.sql`]: "SELECT 7;\n",
    });
    await sandbox.commitToMain({ [`${DIR}/006_main.sql`]: "SELECT 'main';\n" }, "main takes 6");
    await sandbox.fetchHost();
    const second = open();
    try {
      const state = await gatherRepoState(second, { fetch: false });
      expect(adds(state)).toEqual({
        "origin/mai/ann/add": ["6:ann", "7:ann_more"],
        "origin/mai/cat/odd": ["57:057.sql"],
      });
      const now = JSON.parse((await state.store.getShared(`branch-scan:${DIR}`))?.value ?? "{}");
      expect(now.base).not.toBe(saved.base);
    } finally {
      await second.close();
    }
  });
});
