import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { ManualClock } from "../../src/clock.js";
import { type App, createApp, MIG_DIR, mainMigrations } from "./app.js";
import { type Connected, connect, structured, textOf } from "./mcp.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A worker's session on its own worktree, sharing the scenario's clock. */
export interface DeskWorker {
  c: Connected;
  branch: string;
  root: string;
  /** Writes the files, commits them (dated `at`, default now), and answers the new HEAD. */
  commit(files: Record<string, string>, at?: number): Promise<string>;
  push(): Promise<void>;
}

function must<T>(what: string, result: Awaited<ReturnType<Connected["call"]>>): T {
  if (result.isError) throw new Error(`setup: ${what} failed: ${textOf(result)}`);
  return structured<T>(result);
}

/**
 * The head's desk, as the issue tells it: four workers and a production whose history names a
 * version differently from main.
 *
 * - ann is done: her migration reserved, pushed, suite and dry run passed, completion reported;
 * - bob is stale: two leases taken two days ago, committed on a branch he never pushed;
 * - cara hand-wrote `022_cara_report.sql` on bob's leased version 22, without a lease, and pushed it;
 * - dan went silent: his lease and his last (pushed) commit are four days old;
 * - production's history says 19 = "backups" where main has `019_create_t19.sql`.
 *
 * One clock, started five days ago and moved to now as the story goes, drives leases, runs and
 * completions; commits carry their own dates.
 */
export async function createDesk() {
  const start = Date.now() - 5 * DAY;
  const clock = new ManualClock(start);
  const app: App = await createApp({
    migrations: mainMigrations(20),
    appliedUpTo: 20,
    prodExtraSql: "UPDATE paliad.applied_migrations SET name = 'backups' WHERE version = 19;",
    config: { suite: { pre_push: [{ name: "build", run: "true" }] }, gate: { reporter: ["true"] } },
  });
  const sessions: Connected[] = [];
  const worker = async (branch: string, env: Record<string, string> = {}): Promise<DeskWorker> => {
    const cwd = await app.sandbox.worktree(branch);
    const c = await connect({ cwd, env: { ...app.env, ...env }, clock });
    sessions.push(c);
    const root = (await c.workspace.repo()).root;
    const git = async (args: string[], at?: number) => {
      const date = at === undefined ? {} : { GIT_AUTHOR_DATE: iso(at), GIT_COMMITTER_DATE: iso(at) };
      const r = await execa("git", args, { cwd: root, env: { ...IDENTITY, ...date }, reject: false });
      if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    return {
      c,
      branch,
      root,
      async commit(files, at) {
        for (const [path, text] of Object.entries(files)) await writeFile(join(root, path), text);
        await git(["add", "-A"]);
        await git(["commit", "-qm", `work on ${branch}`], at);
        return (await git(["rev-parse", "HEAD"])).trim();
      },
      async push() {
        await git(["push", "-q", "--force", "origin", `${branch}:${branch}`]);
      },
    };
  };
  const reserve = async (w: DeskWorker, name: string, count?: number) =>
    must<{ leases: { version: number; files: string[]; lease_id: string }[] }>(
      "reserve_migration_slot",
      await w.c.call("reserve_migration_slot", { name, ...(count ? { count } : {}) }),
    ).leases;

  // Day 0: dan reserves and pushes his file, then goes silent (his commit is four days old).
  const dan = await worker("mai/dan/audit");
  const [danLease] = await reserve(dan, "add_audit_log");
  await dan.commit(
    { [danLease!.files[0]!]: "CREATE TABLE audit_log (id bigint PRIMARY KEY);\n" },
    Date.now() - 4 * DAY,
  );
  await dan.push();

  // Day 3: bob reserves two versions and commits both files, never pushing them.
  clock.advance(3 * DAY);
  const bob = await worker("mai/bob/pair");
  const bobLeases = await reserve(bob, "split_orders", 2);
  await bob.commit(
    Object.fromEntries(
      bobLeases.map((l, i) => [l.files[0]!, `CREATE TABLE orders_${i} (id bigint PRIMARY KEY);\n`]),
    ),
    Date.now() - 2 * DAY,
  );

  // An hour ago: cara hand-writes a file on bob's leased version and pushes it.
  clock.advance(2 * DAY - HOUR);
  const cara = await worker("mai/cara/report");
  const taken = bobLeases[0]!.version;
  const caraFile = `${MIG_DIR}/${String(taken).padStart(3, "0")}_cara_report.sql`;
  await cara.commit({ [caraFile]: "CREATE TABLE cara_report (id bigint PRIMARY KEY);\n" });
  await cara.push();

  // ann does it all by the book and reports.
  const ann = await worker("mai/ann/index");
  const [annLease] = await reserve(ann, "add_orders_index");
  const annSha = await ann.commit({
    [annLease!.files[0]!]: "CREATE TABLE ann_orders (id bigint PRIMARY KEY);\n",
  });
  await ann.push();
  const suite = must<{ state: string }>("suite", await ann.c.call("run_pre_push_suite", {}));
  if (suite.state !== "passed") throw new Error(`setup: ann's suite ${suite.state}`);
  const dry = must<{ passed: boolean }>("dry run", await ann.c.call("dry_run_migration", {}));
  if (!dry.passed) throw new Error("setup: ann's dry run did not pass");
  const report = must<{ accepted: boolean; completion_id: string }>(
    "report_completed",
    await ann.c.call("report_completed", { summary: "Added the orders index; suite and dry run pass." }),
  );
  if (!report.accepted) throw new Error("setup: ann's completion was refused");
  clock.advance(HOUR);

  return {
    app,
    clock,
    ann,
    bob,
    cara,
    dan,
    annSha,
    annLease: annLease!,
    bobLeases,
    danLease: danLease!,
    caraVersion: taken,
    /** A session as the head (MAI_ROLE=head) on the same clock. */
    async head(): Promise<Connected> {
      const cwd = await app.sandbox.worktree(`head-desk-${sessions.length}`);
      const c = await connect({ cwd, env: { ...app.env, MAI_ROLE: "head" }, clock });
      sessions.push(c);
      return c;
    },
    async cleanup() {
      await Promise.all(sessions.map((s) => s.close()));
      await app.cleanup();
    },
  };
}

export type Desk = Awaited<ReturnType<typeof createDesk>>;

const IDENTITY = {
  GIT_AUTHOR_NAME: "desk",
  GIT_AUTHOR_EMAIL: "desk@mai-gate.invalid",
  GIT_COMMITTER_NAME: "desk",
  GIT_COMMITTER_EMAIL: "desk@mai-gate.invalid",
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
