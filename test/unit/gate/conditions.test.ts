import { describe, expect, it } from "vitest";
import type { DryRunSet, EvidenceFacts } from "../../../src/gate/facts.js";
import { judge } from "../../../src/gate/service.js";
import type { SuiteRunRecord } from "../../../src/store/types.js";
import { added, DIR, facts, lease, NOW, repoState } from "../../helpers/facts.js";

const failed = (f: ReturnType<typeof facts>) =>
  judge(f).unmet.map(
    (c) => `${c.kind}${c.rule ? `/${c.rule}` : ""}${c.file ? ` ${c.file.split("/").at(-1)}` : ""}`,
  );

function run(id: string, over: Partial<SuiteRunRecord> = {}): SuiteRunRecord {
  return {
    id,
    worker: "ann",
    branch: "mai/ann/task",
    profile: "pre_push",
    tree: "t".repeat(40),
    head: "h".repeat(40),
    suiteHash: "suite",
    dirty: false,
    checkout: { kind: "clean", shared: [] },
    state: "passed",
    steps: [],
    pid: 1,
    host: null,
    startedAt: NOW - 100,
    finishedAt: NOW - 50,
    ...over,
  };
}

const set = (
  runId: string,
  files: [string, string, DryRunSet["files"][number]["outcome"]][],
  over: Partial<DryRunSet> = {},
): DryRunSet => ({
  runId,
  createdAt: NOW - 10,
  templateKey: "tpl",
  files: files.map(([path, sha256, outcome]) => ({ path: `${DIR}/${path}`, sha256, outcome })),
  ...over,
});

const evidence = (over: Partial<EvidenceFacts> = {}): EvidenceFacts => ({
  suite: { hash: "suite" },
  suiteRuns: [run("S1")],
  dryRuns: [],
  templateKey: "tpl",
  working: [],
  ...over,
});

/** Two new files, leased and free; `contents` in the facts builder are `sha-of-<oid>`. */
function twoFiles(records: EvidenceFacts) {
  const a = added("3_a.sql");
  const b = added("4_b.sql");
  const f = facts({
    state: repoState({ main: ["1_x.sql", "2_y.sql"] }),
    added: [a, b],
    leases: [lease(3, "a"), lease(4, "b")],
    scope: "gate",
    records,
  });
  return { f, shaA: f.contents.get(a.path)!, shaB: f.contents.get(b.path)! };
}

describe("verdict conditions (pure functions of the facts)", () => {
  it("green: leases held, free versions, the whole set dry-run together, a clean-checkout suite pass", () => {
    const { f, shaA, shaB } = twoFiles(evidence());
    f.records!.dryRuns = [
      set("D1", [
        ["3_a.sql", shaA, "passed"],
        ["4_b.sql", shaB, "passed"],
      ]),
    ];
    const g = judge(f);
    expect(g.unmet).toEqual([]);
    expect(g.green).toBe(true);
    expect(g.evidence).toEqual({ suiteRun: "S1", dryRuns: ["D1"], leases: ["Lann3", "Lann4"] });
  });

  it("dry run: a pass for each file alone (a subset) does not count for the set", () => {
    const { f, shaA, shaB } = twoFiles(evidence());
    f.records!.dryRuns = [set("D1", [["3_a.sql", shaA, "passed"]]), set("D2", [["4_b.sql", shaB, "passed"]])];
    expect(failed(f)).toEqual(["dry_run"]);
    expect(judge(f).unmet[0]!.detail).toContain("not exactly the branch's 2 new file(s)");
  });

  it("dry run: a later failure of the same set voids an earlier pass; a tie counts as the failure", () => {
    const { f, shaA, shaB } = twoFiles(evidence());
    const files = (outcome: "passed" | "failed"): [string, string, "passed" | "failed"][] => [
      ["3_a.sql", shaA, "passed"],
      ["4_b.sql", shaB, outcome],
    ];
    f.records!.dryRuns = [set("D2", files("failed"), { createdAt: NOW - 5 }), set("D1", files("passed"))];
    expect(failed(f)).toEqual(["dry_run"]);
    expect(judge(f).unmet[0]!.detail).toContain("(D2) failed at db/migrations/4_b.sql");
    f.records!.dryRuns = [set("D1", files("passed")), set("D2", files("failed"))];
    expect(failed(f)).toEqual(["dry_run"]);
    f.records!.dryRuns = [set("D3", files("passed"), { createdAt: NOW - 1 }), set("D2", files("failed"))];
    expect(failed(f)).toEqual([]);
  });

  it("dry run: older content, another baseline, or a set with an extra file do not count", () => {
    const { f, shaA, shaB } = twoFiles(evidence());
    f.records!.dryRuns = [
      set("D1", [
        ["3_a.sql", "old", "passed"],
        ["4_b.sql", shaB, "passed"],
      ]),
    ];
    expect(failed(f)).toEqual(["dry_run"]);
    f.records!.dryRuns = [
      set(
        "D1",
        [
          ["3_a.sql", shaA, "passed"],
          ["4_b.sql", shaB, "passed"],
        ],
        { templateKey: "old" },
      ),
    ];
    expect(judge(f).unmet[0]!.detail).toContain("older baseline");
    f.records!.dryRuns = [
      set("D1", [
        ["3_a.sql", shaA, "passed"],
        ["4_b.sql", shaB, "passed"],
        ["5_c.sql", "x", "passed"],
      ]),
    ];
    expect(failed(f)).toEqual(["dry_run"]);
  });

  it("suite: only a clean-checkout run counts, and the latest finished run of the tree decides", () => {
    const { f, shaA, shaB } = twoFiles(evidence({ suiteRuns: [run("S1", { checkout: null })] }));
    f.records!.dryRuns = [
      set("D1", [
        ["3_a.sql", shaA, "passed"],
        ["4_b.sql", shaB, "passed"],
      ]),
    ];
    expect(failed(f)).toEqual(["suite"]);
    expect(judge(f).unmet[0]!.detail).toContain("ran in the worktree, not on a clean checkout");
    f.records!.suiteRuns = [run("S2", { state: "failed" }), run("S1")];
    expect(judge(f).unmet[0]!.detail).toBe("the latest suite run S2 of tree tttttttttttt failed");
    f.records!.suiteRuns = [run("S2", { suiteHash: "other" })];
    expect(failed(f)).toEqual(["suite"]);
  });

  it("clean_tree: uncommitted changes and files hidden by skip-worktree or assume-unchanged", () => {
    const f = facts({
      state: repoState({ main: [] }),
      scope: "gate",
      records: evidence(),
      target: { dirty: true, hidden: [{ path: "test.sh", flag: "skip-worktree" }] },
    });
    const c = judge(f).unmet.find((x) => x.kind === "clean_tree")!;
    expect(c.detail).toBe("hidden from git status by index flags: test.sh (skip-worktree)");
    expect(c.fix).toContain("git update-index --no-skip-worktree");
  });

  it("unparseable: a name the layout cannot read is red, and its number still collides", () => {
    const f = facts({ state: repoState({ main: ["1_a.sql", "2_b.sql"] }), added: [added("002.sql")] });
    expect(failed(f)).toEqual(["unparseable 002.sql", "collision/main 002.sql"]);
    const symlink = facts({ state: repoState({ main: [] }), added: [added("3_c.sql", "x", "120000")] });
    expect(failed(symlink)).toEqual(["unparseable 3_c.sql"]);
  });

  it("no_edits: a type change (symlink), a mode change, a rename or a deletion of main's migration", () => {
    const f = facts({
      state: repoState({ main: ["1_a.sql"] }),
      edited: [
        { path: `${DIR}/1_a.sql`, change: "type_changed", to: null },
        { path: `${DIR}/2_b.sql`, change: "mode_changed", to: null },
      ],
    });
    expect(failed(f)).toEqual(["no_edits"]);
    expect(judge(f).unmet[0]!.detail).toBe(`${DIR}/1_a.sql type changed; ${DIR}/2_b.sql mode changed`);
  });

  it("main_config: a config not read from main is red in the gate, always required", () => {
    const f = facts({ state: repoState({ main: [] }), scope: "gate", records: evidence() });
    f.trust = {
      fromMain: false,
      source: "/tmp/x.yaml",
      reason: "read from --config /tmp/x.yaml, not from main",
    };
    f.state.config.gate = { require: ["suite"], reporter_timeout_seconds: 60 };
    expect(failed(f)).toEqual(["main_config"]);
  });

  it("pushed: the remote branch at HEAD is green; never pushed or behind is red, fixed last", () => {
    const at = (pushedAt: string | null | undefined, over: Partial<Parameters<typeof facts>[0]> = {}) =>
      facts({
        state: repoState({ main: ["1_a.sql"], pushedAt }),
        scope: "gate",
        records: evidence(),
        ...over,
      });
    expect(failed(at(undefined))).toEqual([]);
    const never = judge(at(null)).unmet;
    expect(never.map((c) => c.kind)).toEqual(["pushed"]);
    expect(never[0]!.detail).toBe("not pushed: origin has no branch mai/ann/task");
    expect(never[0]!.fix).toBe("git push -u origin mai/ann/task (then call gate_status again).");
    // A ref written by hand is corrected by the fetch; when the fetch failed, the push is unconfirmed.
    const offline = at(undefined);
    offline.state.fetch = { status: "failed", remote: "origin", error: "could not read from remote" };
    expect(judge(offline).unmet.map((c) => c.detail)).toEqual([
      "cannot confirm the push: git fetch from origin failed (could not read from remote)",
    ]);
    const behind = judge(at("b".repeat(40))).unmet;
    expect(behind[0]!.detail).toBe(`origin/mai/ann/task is at bbbbbbbbbb, not at HEAD ${"h".repeat(10)}`);
    // Red on everything: the fixes in the order they must be done, pushing last.
    const all = at(null, {
      target: { dirty: true, dirtyPaths: ["x.go"] },
      records: evidence({ suiteRuns: [] }),
    });
    expect(failed(all)).toEqual(["clean_tree", "suite", "pushed"]);
    // A config may leave pushing out of the gate: then it is shown, not counted.
    const optional = at(null);
    optional.state.config.gate = {
      require: ["clean_tree", "suite", "migrations"],
      reporter_timeout_seconds: 60,
    };
    expect(failed(optional)).toEqual([]);
    expect(judge(optional).conditions.find((c) => c.kind === "pushed")).toMatchObject({
      passed: false,
      required: false,
    });
  });

  it("an uncommitted migration whose content no dry run has seen is named before the clean tree", () => {
    const path = `${DIR}/5_new.sql`;
    const dirty = (working: EvidenceFacts["working"]) =>
      facts({
        state: repoState({ main: ["1_a.sql"] }),
        scope: "gate",
        target: { dirty: true, dirtyPaths: working.map((w) => w.path) },
        records: evidence({ working }),
      });
    const never = judge(dirty([{ path, sha256: "now", lastDryRun: null }])).unmet;
    expect(never.map((c) => `${c.kind} ${c.file ?? ""}`.trim())).toEqual([`dry_run ${path}`, "clean_tree"]);
    expect(never[0]!.detail).toBe("uncommitted, and never dry-run");
    const edited = judge(dirty([{ path, sha256: "now", lastDryRun: "before" }])).unmet;
    expect(edited[0]!.detail).toBe("its uncommitted content differs from its last dry run");
    // Dry-run on the working copy: only the commit is left to do.
    expect(failed(dirty([{ path, sha256: "now", lastDryRun: "now" }]))).toEqual(["clean_tree"]);
  });

  it("CI scope applies only the conditions that need no worker records", () => {
    const f = facts({
      state: repoState({ main: ["1_a.sql"] }),
      added: [added("2_b.sql")],
      leases: [lease(2, "b", "bob")],
      scope: "ci",
    });
    expect(judge(f).conditions.map((c) => c.kind)).toEqual(["collision", "no_edits"]);
    expect(failed(f)).toEqual(["collision/lease 2_b.sql"]);
  });
});
