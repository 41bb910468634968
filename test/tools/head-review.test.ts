import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDesk, type Desk } from "../helpers/desk.js";
import { type Connected, structured, textOf } from "../helpers/mcp.js";

interface Branch {
  branch: string;
  push: string;
  sha: string;
  ahead_of_main: number;
  last_commit_age_seconds: number;
  gate: { green: boolean | null; unmet: string[] };
  completion: { id: string; sha: string; at_tip: boolean; status: string } | null;
}
interface Worker {
  worker: string;
  stale: { rule: string; detail: string }[];
  next: string;
  blame: string[];
  branches: Branch[];
  leases: { lease_id: string; version: number; state: string; age_seconds: number; notes: string[] }[];
}
interface Review {
  next: string[];
  workers: Worker[];
  production_conflicts: { version: number; main_name: string; production_name: string }[];
  collisions: { version: number; message: string; blame: string[] }[];
}

const HOUR_S = 3600;

describe("the head's desk: four workers and a production that names a version differently from main", () => {
  let desk: Desk;
  let head: Connected;
  const calls: string[] = [];
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    calls.push(name);
    return head.call(name, args);
  };

  beforeAll(async () => {
    desk = await createDesk();
    head = await desk.head();
  }, 180_000);
  afterAll(async () => {
    await desk?.cleanup();
  });

  it("finds every problem and refuses the merge in at most 8 calls", async () => {
    const answer = await call("review_workers");
    const review = structured<Review>(answer);
    const text = textOf(answer);
    const w = (name: string) => review.workers.find((x) => x.worker === name)!;
    expect(review.workers.map((x) => x.worker)).toEqual(["ann", "bob", "cara", "dan"]);

    // Production first: main's 019 against production's "backups".
    expect(review.production_conflicts).toEqual([
      expect.objectContaining({ version: 19, main_name: "create_t19", production_name: "backups" }),
    ]);
    expect(review.next[0]).toContain(
      "rename main's 019 or repair production's history: the next deploy will crash-loop",
    );

    // ann: done, her completion still at the tip, gate green.
    const ann = w("ann").branches[0]!;
    expect(ann).toMatchObject({
      branch: "mai/ann/index",
      push: "pushed",
      ahead_of_main: 1,
      sha: desk.annSha,
    });
    expect(ann.gate.green).toBe(true);
    expect(ann.completion).toMatchObject({ sha: desk.annSha, at_tip: true, status: "still at tip" });
    expect(w("ann").stale).toEqual([]);
    expect(w("ann").next).toContain("verify_completion");
    expect(w("ann").next).toContain("once production's conflict is fixed");

    // bob: stale by the unpushed-leases rule, two leases two days old, branch never pushed.
    expect(w("bob").stale.map((f) => f.rule)).toEqual(["unpushed_leases"]);
    expect(w("bob").stale[0]!.detail).toContain("never pushed");
    expect(w("bob").branches[0]).toMatchObject({ branch: "mai/bob/pair", push: "never_pushed" });
    expect(w("bob").leases).toHaveLength(2);
    expect(w("bob").leases.every((l) => l.age_seconds > 40 * HOUR_S)).toBe(true);
    // The rightful lease is not marked conflicted: bob is not the one to move.
    expect(w("bob").leases.map((l) => l.state)).toEqual(["active", "active"]);
    expect(w("bob").blame).toEqual([]);
    expect(w("bob").branches[0]!.gate.unmet.filter((u) => u.startsWith("collision"))).toEqual([]);

    // cara: her unleased file takes bob's version; she is named as the one to move.
    const v = desk.caraVersion;
    expect(w("cara").blame[0]).toContain(`cara: version ${v} is bob's lease — reserve and rename`);
    expect(w("cara").next).toMatch(/^tell cara: version \d+ is bob's lease — reserve and rename/);
    expect(w("cara").branches[0]!.gate.green).toBe(false);
    expect(w("cara").branches[0]!.gate.unmet.join("\n")).toContain(`version ${v} is leased to bob`);
    expect(w("cara").stale).toEqual([]);

    // dan: silent for four days, by the rule that says so.
    expect(w("dan").stale.map((f) => f.rule)).toEqual(["silent"]);
    expect(w("dan").stale[0]!.detail).toMatch(/no commit, lease or completion for 4 d/);
    expect(w("dan").branches[0]!.last_commit_age_seconds).toBeGreaterThan(3.5 * 24 * HOUR_S);
    expect(w("dan").next).toContain('revoke_worker_leases(worker: "dan"');

    // One row per branch in the text; each worker once.
    expect(text.match(/mai\/cara\/report at/g)).toHaveLength(1);
    expect(text).toContain("NEVER PUSHED");

    // Is it safe to merge ann? No: the next deploy crash-loops on 019.
    const deploy = structured<{ verdict: string; safe_to_merge: { answer: boolean; why: string } }>(
      await call("deploy_status"),
    );
    expect(deploy.verdict).toBe("degraded");
    expect(deploy.safe_to_merge.answer).toBe(false);

    // ann's completion holds (it would be merged once production is fixed).
    const verified = structured<{ verified: boolean }>(
      await call("verify_completion", { worker: "ann", branch: "mai/ann/index", sha: desk.annSha }),
    );
    expect(verified.verified).toBe(true);

    // dan's leases go, in one call, with a reason.
    const revoke = await call("revoke_worker_leases", { worker: "dan", reason: "silent for four days" });
    expect(structured<{ revoked: { version: number }[] }>(revoke).revoked.map((l) => l.version)).toEqual([
      desk.danLease.version,
    ]);
    expect(textOf(revoke)).toContain("Next: tell dan");

    // The lease list agrees: revoked with who and why, counted; bob's lease rightful, cara blamed.
    const listed = await call("list_slot_leases", { include_ended: true });
    const leases = structured<{
      leases: { lease_id: string; state: string; ended: { by: string; note: string } | null }[];
      counts: Record<string, number>;
      collisions: { version: number; blame: { worker: string }[]; holders: { where: string }[] }[];
      unleased: { version: number; leased_to: { worker: string } | null; refs: string[] }[];
    }>(listed);
    expect(leases.leases.find((l) => l.lease_id === desk.danLease.lease_id)).toMatchObject({
      state: "revoked",
      ended: { by: "head", note: "silent for four days" },
    });
    expect(leases.counts.revoked).toBe(1);
    expect(leases.unleased.find((u) => u.version === v)).toMatchObject({
      leased_to: { worker: "bob" },
      refs: ["origin/mai/cara/report"],
    });
    expect(textOf(listed)).toContain(`Next: tell cara: version ${v} is bob's lease — reserve and rename`);
    // cara's branch has a local and an origin copy here: one holder, one blame.
    const collision = leases.collisions.find((c) => c.version === v)!;
    expect(collision.holders.filter((h) => h.where.includes("mai/cara/report"))).toHaveLength(1);
    expect(collision.blame.map((b) => b.worker)).toEqual(["cara"]);
    expect(textOf(listed)).not.toContain("Delete the file");

    expect(calls.length).toBeLessThanOrEqual(8);
  });

  it("a completion stops holding once the branch moves: the review says so, and why not to merge", async () => {
    await desk.ann.commit({ "NOTES.md": "one more thing\n" });
    await desk.ann.push();
    const review = structured<Review>(await head.call("review_workers", { worker: "ann" }));
    const ann = review.workers[0]!;
    expect(ann.branches[0]!.completion).toMatchObject({ at_tip: false, status: "branch moved since: stale" });
    expect(ann.next).toContain("do not merge mai/ann/index");
  });

  it("answers the head in the head's words: revoking one lease never says to delete a file from your branch", async () => {
    const revoked = await head.call("release_slot", {
      lease_id: desk.bobLeases[1]!.lease_id,
      reason: "split differently",
    });
    expect(structured<{ end_reason: string }>(revoked).end_reason).toBe("revoked");
    expect(textOf(revoked)).toContain("Revoked");
    expect(textOf(revoked)).toContain("Tell bob why");
    expect(textOf(revoked)).not.toMatch(/your branch/);
    const gate = textOf(await head.call("gate_status", { branch: "mai/cara/report" }));
    expect(gate).toContain("Next: send cara the unmet lines above");
  });

  it("is for the head: a worker is refused, and the role is in every tool's description", async () => {
    const refused = await desk.cara.c.call("review_workers");
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('role "worker" may not review every worker');
    const { tools } = await head.client.listTools();
    for (const t of tools) expect(t.description, t.name).toMatch(/\n\nRoles: .+\.$/);
    expect(tools.find((t) => t.name === "review_workers")!.description).toContain("Roles: head only.");
    expect(tools.find((t) => t.name === "reserve_migration_slot")!.description).toContain(
      "Roles: worker only.",
    );
    const review = JSON.stringify((await head.client.getPrompt({ name: "lease-review" })).messages);
    expect(review).toContain("never the rightful lease holder");
    expect(review).toContain("is NOT conflicted");
    expect(review).toContain("revoke_worker_leases");
  });
});
