import { describe, expect, it } from "vitest";
import { gitBlobId } from "../../../src/hash.js";
import { type SlotSubject, slotViolations } from "../../../src/slots/rules.js";
import { DIR, lease, NOW, repoState } from "../../helpers/facts.js";

const subject = (file: string, over: Partial<SlotSubject> = {}): SlotSubject => {
  const m = /^(\d+)_(.+)\.sql$/.exec(file);
  return {
    path: `${DIR}/${file}`,
    version: Number(m?.[1] ?? /^\d+/.exec(file)?.[0]),
    name: m?.[2] ?? null,
    oid: gitBlobId(`-- ${file}\n`),
    branch: "mai/ann/task",
    worker: "ann",
    ...over,
  };
};

const rules = (
  state: ReturnType<typeof repoState>,
  s: SlotSubject,
  leases = [lease(s.version, s.name ?? "x")],
) => slotViolations(state, leases, s, { now: NOW }).map((v) => v.rule);

describe("slot rules (pure: no repository, no store)", () => {
  it("a free version with the worker's lease breaks no rule", () => {
    const state = repoState({
      main: ["1_a.sql", "2_b.sql"],
      production: [
        [1, "a"],
        [2, "b"],
      ],
    });
    expect(rules(state, subject("3_c.sql"))).toEqual([]);
  });

  it("main: another name on main, an unreadable file on main, the same name with other content", () => {
    expect(rules(repoState({ main: ["3_other.sql"] }), subject("3_c.sql"))).toEqual(["main"]);
    expect(rules(repoState({ main: ["003.sql"] }), subject("3_c.sql"))).toEqual(["main"]);
    const state = repoState({ main: { "3_c.sql": "CREATE TABLE x();\n" } });
    const v = slotViolations(state, [], subject("3_c.sql"), { now: NOW });
    expect(v.map((x) => [x.rule, x.detail])).toEqual([
      ["main", "main already has 3_c.sql with other content"],
    ]);
  });

  it("main: the same file (same content) is main's own and nothing else is checked", () => {
    const state = repoState({ main: ["3_c.sql"], production: [[3, "c"]] });
    expect(rules(state, subject("3_c.sql"), [])).toEqual([]);
  });

  it("production: applied under another name crash-loops; applied already never runs; unreachable fails closed", () => {
    expect(rules(repoState({ main: [], production: [[3, "backups"]] }), subject("3_c.sql"))).toEqual([
      "production",
    ]);
    const same = slotViolations(repoState({ main: [], production: [[3, "c"]] }), [], subject("3_c.sql"), {
      now: NOW,
    });
    expect(same[0]).toMatchObject({ rule: "production", sameName: true });
    const down = slotViolations(repoState({ main: [], production: "unreachable" }), [], subject("3_c.sql"), {
      now: NOW,
    });
    expect(down.find((v) => v.rule === "production")).toMatchObject({ unverified: true });
  });

  it("production: golang-migrate's one row means every version up to it is applied; several rows need one with the name", () => {
    const gm = repoState({ main: ["1_a.sql"], golangMigrateAt: 10 });
    const below = slotViolations(gm, [], subject("7_c.sql"), { now: NOW });
    expect(below.map((v) => v.rule)).toEqual(["production"]);
    expect(below[0]!.detail).toContain("history is at 10: version 7 counts as applied and would never run");
    expect(rules(gm, subject("11_d.sql"))).toEqual([]);
    const twice = repoState({
      main: [],
      production: [
        [3, "backups"],
        [3, "c"],
      ],
    });
    expect(slotViolations(twice, [], subject("3_c.sql"), { now: NOW })[0]).toMatchObject({ sameName: true });
  });

  it("out_of_order: only with ordering strict, at or below what main or production has", () => {
    const set = repoState({ main: ["1_a.sql", "5_e.sql"] });
    expect(rules(set, subject("3_c.sql"))).toEqual([]);
    const strict = repoState({ main: ["1_a.sql", "5_e.sql"], migrations: { ordering: "strict" } });
    expect(rules(strict, subject("3_c.sql"))).toEqual(["out_of_order"]);
    expect(rules(strict, subject("6_f.sql"))).toEqual([]);
    const unreadable = repoState({ main: ["1_a.sql", "0009.sql"], migrations: { ordering: "strict" } });
    expect(rules(unreadable, subject("6_f.sql"))).toEqual(["out_of_order"]);
  });

  it("branch: another branch's file on the version; the file without a lease is the one blamed", () => {
    const state = repoState({
      main: ["1_a.sql"],
      branches: { "origin/mai/bob/x": ["1_a.sql", "2_bobs.sql"], "mai/bob/x": ["1_a.sql", "2_bobs.sql"] },
    });
    // Neither has a lease: both are red, and the local and remote copies of bob's branch count once.
    const both = slotViolations(state, [], subject("2_mine.sql"), { now: NOW });
    expect(both.map((v) => v.rule)).toEqual(["branch"]);
    expect(both[0]!.detail).toBe(
      "version 2 is also on mai/bob/x (2_bobs.sql): only one of them can merge, the second would crash-loop the app",
    );
    // Ann holds the lease: bob's unleased file must move, not ann's.
    expect(rules(state, subject("2_mine.sql"), [lease(2, "mine")])).toEqual([]);
    // Bob holds the lease: ann's file is red on the branch rule and on bob's lease.
    expect(rules(state, subject("2_mine.sql"), [lease(2, "bobs", "bob")])).toEqual(["branch", "lease"]);
    // The judged branch's own copies are never a clash.
    expect(
      rules(state, subject("2_bobs.sql", { branch: "mai/bob/x", worker: "bob" }), [lease(2, "bobs", "bob")]),
    ).toEqual([]);
  });

  it("lease: another worker's active lease on the version; an expired one does not hold it", () => {
    const state = repoState({ main: [] });
    expect(rules(state, subject("4_d.sql"), [lease(4, "d", "bob")])).toEqual(["lease"]);
    expect(rules(state, subject("4_d.sql"), [lease(4, "d", "bob", { expiresAt: NOW - 1 })])).toEqual([]);
    // CI without a worker: a lease under another name is a clash, the same name is the rightful lease.
    expect(rules(state, subject("4_d.sql", { worker: null }), [lease(4, "other", "bob")])).toEqual(["lease"]);
    expect(rules(state, subject("4_d.sql", { worker: null }), [lease(4, "d", "bob")])).toEqual([]);
  });

  it("duplicate: two files of one branch with one version; with duplicates allowed a new one is still red", () => {
    const state = repoState({ main: [] });
    const a = subject("7_a.sql");
    const b = subject("7_b.sql");
    const found = slotViolations(state, [lease(7, "a")], a, { now: NOW, siblings: [a, b] });
    expect(found.map((v) => v.rule)).toEqual(["duplicate"]);
    const allow = repoState({ main: ["7_x.sql"], migrations: { duplicates: "allow" } });
    const v = slotViolations(allow, [lease(7, "a")], a, { now: NOW });
    expect(v[0]).toMatchObject({ rule: "main" });
    expect(v[0]!.detail).toContain("a database already at 7 skips a file that sorts lower");
  });
});
