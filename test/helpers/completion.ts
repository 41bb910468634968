import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { WorkspaceOptions } from "../../src/workspace.js";
import { type App, MIG_DIR } from "./app.js";
import { type Connected, connect, structured, textOf } from "./mcp.js";

/**
 * A mai-gate.yaml with a one-step pre-push suite and a reporter that appends its argv
 * (`{summary} {worker} {branch} {sha}`) to `log`, one JSON line per run. `gate` adds or
 * replaces keys of the `gate` section.
 */
export function gateConfigText(log: string, gate: Record<string, unknown> = {}): string {
  const append = `require("fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(1)) + String.fromCharCode(10))`;
  return stringify({
    migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations" },
    prod: { dsn: "env:PROD_RO_DSN" },
    scratch: { dsn: "env:SCRATCH_DSN" },
    git: { fetch_interval_seconds: 0 },
    suite: { pre_push: [{ name: "build", run: "true" }] },
    gate: { reporter: ["node", "-e", append, "{summary}", "{worker}", "{branch}", "{sha}"], ...gate },
  });
}

/** Every run of the reporter `gateConfigText(log)` configures, oldest first; none when it never ran. */
export async function reporterRuns(log: string): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(log, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
}

/** A worker's session in its own new worktree on `branch`, with git helpers for that worktree. */
export interface WorkerSession {
  c: Connected;
  branch: string;
  root: string;
  git(...args: string[]): Promise<string>;
  /** Writes the files (paths relative to the worktree), commits everything, and answers the new HEAD. */
  commit(files: Record<string, string>, message?: string): Promise<string>;
  /** Pushes the branch to origin. */
  push(): Promise<void>;
}

export async function workerSession(
  app: App,
  branch: string,
  env: Record<string, string> = {},
): Promise<WorkerSession> {
  const c = await app.session(branch, env);
  const root = (await c.workspace.repo()).root;
  const git = (...args: string[]) => app.sandbox.git(root, ...args);
  return {
    c,
    branch,
    root,
    git,
    async commit(files, message = "work") {
      for (const [path, text] of Object.entries(files)) await writeFile(join(root, path), text);
      await git("add", "-A");
      await git("commit", "-qm", message);
      return (await git("rev-parse", "HEAD")).trim();
    },
    async push() {
      await git("push", "-q", "--force", "origin", `${branch}:${branch}`);
    },
  };
}

/**
 * More MCP sessions on existing worktrees (another env, `--config`), closed together by `closeAll`;
 * `app.session` always makes a new worktree.
 */
export function extraSessions(app: App) {
  const open: Connected[] = [];
  return {
    async attach(cwd: string, env: Record<string, string> = {}, options: Partial<WorkspaceOptions> = {}) {
      const c = await connect({ cwd, env: { ...app.env, ...env }, ...options });
      open.push(c);
      return c;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((c) => c.close()));
    },
  };
}

let heads = 0;

/** A head session (MAI_ROLE=head) in a worktree of its own on a branch that names no worker. */
export function headSession(app: App, env: Record<string, string> = {}): Promise<Connected> {
  heads += 1;
  return app.session(`head-desk-${heads}`, { MAI_ROLE: "head", ...env });
}

/** Throws with the tool's text unless the call succeeded; for setup steps that must work. */
function must<T>(what: string, result: Awaited<ReturnType<Connected["call"]>>): T {
  if (result.isError) throw new Error(`setup: ${what} failed: ${textOf(result)}`);
  return structured<T>(result);
}

/**
 * The worker's whole road to a green gate: reserve a slot for `name`, write `sql` to the file it
 * names, commit and push, run the suite and the dry run. Answers the HEAD and the migration file.
 */
export async function greenMigration(
  w: WorkerSession,
  name: string,
  sql: string,
): Promise<{ sha: string; file: string; version: number }> {
  const reserved = must<{ leases: { version: number; paths: string[]; files: string[] }[] }>(
    "reserve_migration_slot",
    await w.c.call("reserve_migration_slot", { name }),
  );
  const lease = reserved.leases[0]!;
  const sha = await w.commit({ [lease.files[0]!]: sql }, `add ${name}`);
  await w.push();
  const suite = must<{ state: string }>("run_pre_push_suite", await w.c.call("run_pre_push_suite", {}));
  if (suite.state !== "passed") throw new Error(`setup: the suite ${suite.state}`);
  const dry = must<{ passed: boolean }>("dry_run_migration", await w.c.call("dry_run_migration", {}));
  if (!dry.passed) throw new Error("setup: the dry run did not pass");
  const gate = must<{ green: boolean; unmet: string[] }>("gate_status", await w.c.call("gate_status", {}));
  if (!gate.green) throw new Error(`setup: the gate is red: ${gate.unmet.join("; ")}`);
  return { sha, file: lease.files[0]!, version: lease.version };
}

/** `greenMigration`, then report_completed, which must be accepted with the reporter run. */
export async function reportedMigration(w: WorkerSession, name: string, sql: string) {
  const green = await greenMigration(w, name, sql);
  const report = must<{ accepted: boolean; reported: boolean; completion_id: string }>(
    "report_completed",
    await w.c.call("report_completed", { summary: `Added ${name}; suite and dry run pass.` }),
  );
  if (!report.accepted || !report.reported) throw new Error("setup: the completion was not reported");
  return { ...green, completionId: report.completion_id };
}
