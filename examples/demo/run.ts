import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { execa } from "execa";
import { createGitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { startEmbeddedProduction } from "./production.js";

/**
 * `npm run demo`: a worked example with nothing to set up. It builds a throwaway repository,
 * starts an embedded production database, and drives real mai-gate servers (the built CLI, over
 * stdio) with a real MCP client, the way each worker's agent client does.
 */
const CLI = resolve(import.meta.dirname, "../../src/cli.js");
const DIR = "internal/db/migrations";

const GO_TEST_SCRIPT = `#!/bin/sh
if grep -qs "func ValidEmail" internal/users/email.go; then
  echo "ok  \texample.com/app/internal/users\t0.004s"
  exit 0
fi
echo "--- FAIL: TestValidEmail (0.00s)"
echo "    email_test.go:12: ValidEmail is not implemented"
echo "FAIL"
echo "FAIL\texample.com/app/internal/users\t0.005s"
exit 1
`;

const say = (text = "") => console.log(text);
const step = (n: number, text: string) => say(`\n${n}. ${text}`);

async function startServer(cwd: string, env: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "serve"],
    cwd,
    env: { PATH: process.env.PATH ?? "", MAI_GATE_LOG: "error", ...env },
  });
  const client = new Client({ name: "demo-agent", version: "1" });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { client, call };
}

function show(result: CallToolResult, indent = "   "): void {
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  say(text.replace(/^/gm, `${indent}${result.isError ? "✗ " : ""}`));
}

async function main(): Promise<void> {
  say("mai-gate demo: two outages' worth of migration trouble, caught before push.");

  const prod = await startEmbeddedProduction(`
    CREATE SCHEMA paliad;
    CREATE TABLE paliad.applied_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz DEFAULT now());
    INSERT INTO paliad.applied_migrations (version, name) SELECT g, 'step_' || g FROM generate_series(1, 122) g;
    INSERT INTO paliad.applied_migrations (version, name) VALUES (123, 'backups');
  `);
  const sandbox = await createGitSandbox({
    config: {
      main_branch: "origin/main",
      migrations: { dir: DIR, layout: "numbered", history_table: "paliad.applied_migrations" },
      prod: { dsn: "env:PROD_RO_DSN" },
      // No scratch server: dry runs use embedded PGlite, replaying main's migrations from empty.
      scratch: { baseline: "replay" },
      suite: {
        pre_push: [
          { name: "build", run: "test -f go.mod && echo 'ok  build'", timeout: 60 },
          { name: "test", run: ["sh", "scripts/go-test.sh"], timeout: 120 },
          { name: "frontend", run: "echo bundling", cwd: "frontend", when: ["frontend/**"] },
        ],
      },
      // What a green report_completed runs (an argv, no shell): the team's `mai` tool (here a stand-in).
      gate: { reporter: ["mai", "report", "completed", "{summary}"] },
    },
    files: {
      ...numberedMigrations(DIR, 122),
      [`${DIR}/001_step_1.sql`]:
        "CREATE TABLE rules (id bigint PRIMARY KEY, title text NOT NULL, is_mandatory boolean, is_blocking boolean);\n",
      [`${DIR}/091_step_91.sql`]: "ALTER TABLE rules DROP COLUMN is_mandatory,\n  DROP COLUMN is_blocking;\n",
      "go.mod": "module example.com/app\n\ngo 1.22\n",
      "frontend/app.js": "export {};\n",
      // Stands in for `go test ./...` (no Go toolchain needed): prints Go's format, fails until the feature exists.
      "scripts/go-test.sh": GO_TEST_SCRIPT,
    },
    prefix: "mai-gate-demo-",
  });
  const servers: Client[] = [];
  try {
    step(1, "The setup");
    say(`   repository: ${sandbox.dir} (bare origin, a host clone, one worktree per worker)`);
    say(`   main has migrations 001..122 in ${DIR}; 091 dropped rules.is_mandatory and rules.is_blocking`);
    say("   mai-gate.yaml on main configures mai-gate; no scratch server, so dry runs use embedded PGlite");
    say(
      `   production: embedded Postgres (PGlite) on ${prod.address}; its history says 1..122 and 123 = "backups"`,
    );
    await sandbox.pushBranch("mai/rogue/legacy", {
      [`${DIR}/123_other.sql`]: "ALTER TABLE t_1 ADD COLUMN other int;\n",
    });
    say("   a branch pushed without mai-gate, mai/rogue/legacy, created 123_other.sql (the first outage)");

    // The team's real `mai` program, which the demo stands in for: it prints what it was asked to report.
    const bin = join(sandbox.dir, "bin");
    await mkdir(bin);
    await writeFile(join(bin, "mai"), '#!/bin/sh\necho "mai: reported to the head: $*"\n');
    await chmod(join(bin, "mai"), 0o755);
    const path = `${bin}:${process.env.PATH ?? ""}`;
    const env = { PROD_RO_DSN: prod.dsn, PATH: path };
    const annDir = await sandbox.worktree("mai/ann/user-email");
    const bobDir = await sandbox.worktree("mai/bob/audit-log");
    const ann = await startServer(annDir, env);
    const bob = await startServer(bobDir, env);
    servers.push(ann.client, bob.client);

    step(2, "ann and bob, each in a worktree with a mai-gate server over stdio, reserve at the same moment");
    const [a, b] = await Promise.all([
      ann.call("reserve_migration_slot", { name: "add_user_email" }),
      bob.call("reserve_migration_slot", { name: "create_audit_log" }),
    ]);
    say("   ann:");
    show(a, "     ");
    say("   bob:");
    show(b, "     ");
    const va = (a.structuredContent as { leases: { version: number }[] }).leases[0]!.version;
    const vb = (b.structuredContent as { leases: { version: number }[] }).leases[0]!.version;
    say(
      `   → different versions (${va} and ${vb}), both above main (122), production (123) and the rogue branch (123).`,
    );

    step(3, "ann's client retries the same call: the same lease comes back (idempotent)");
    show(await ann.call("reserve_migration_slot", { name: "add_user_email" }));

    step(4, "bad input is a clear error, and nothing is written");
    show(await ann.call("reserve_migration_slot", { name: "../../etc/passwd" }));

    step(5, "the head reviews every lease: the collision with production's history is flagged");
    const head = await startServer(sandbox.host, { ...env, MAI_ROLE: "head" });
    servers.push(head.client);
    show(await head.call("list_slot_leases", {}));

    step(6, "ann writes her migration against the schema she remembers, and dry-runs it (the second outage)");
    const annFile = (a.structuredContent as { leases: { paths: string[] }[] }).leases[0]!.paths[0]!;
    await writeFile(
      annFile,
      "ALTER TABLE rules ADD COLUMN email text;\nUPDATE rules SET title = title || ' (required)'\n WHERE is_mandatory;\n",
    );
    show(await ann.call("dry_run_migration", {}));

    step(7, "ann fixes the statement and dry-runs again");
    await writeFile(
      annFile,
      "ALTER TABLE rules ADD COLUMN email text;\nCREATE INDEX rules_email ON rules (email);\n",
    );
    show(await ann.call("dry_run_migration", {}));

    step(8, "ann commits and runs the pre-push suite: a test fails, and the answer names it");
    await sandbox.git(annDir, "add", "-A");
    await sandbox.git(annDir, "commit", "-qm", "add users.email");
    show(await ann.call("run_pre_push_suite", {}));

    step(
      9,
      "ann writes the missing code, commits, and runs the suite again; a second call answers from the record",
    );
    await mkdir(`${annDir}/internal/users`, { recursive: true });
    await writeFile(
      `${annDir}/internal/users/email.go`,
      'package users\n\nfunc ValidEmail(s string) bool { return s != "" }\n',
    );
    await sandbox.git(annDir, "add", "-A");
    await sandbox.git(annDir, "commit", "-qm", "validate emails");
    show(await ann.call("run_pre_push_suite", {}));
    show(await ann.call("run_pre_push_suite", {}));

    step(
      10,
      "ann adds a changelog line, commits, and reports from her shell at once: the PATH shim refuses (no suite run for the new tree)",
    );
    await writeFile(`${annDir}/CHANGELOG.md`, "- users have an email\n");
    await sandbox.git(annDir, "add", "-A");
    await sandbox.git(annDir, "commit", "-qm", "changelog");
    const shimDir = join(annDir, ".mai-gate", "bin");
    const shell = {
      cwd: annDir,
      env: { ...env, PATH: `${shimDir}:${path}`, MAI_GATE_LOG: "error" },
      reject: false,
    };
    const installed = await execa(process.execPath, [CLI, "shim", "install"], shell);
    say(
      installed.stdout.replace(/^/gm, "   $ mai-gate shim install\n   ").split("\n").slice(0, 3).join("\n"),
    );
    const spelled = 'if true; then m"a"i report completed "users.email added"; fi';
    const shimmed = await execa("bash", ["-c", spelled], shell);
    say(`   $ ${spelled}    (exit ${shimmed.exitCode})`);
    say(`${shimmed.stdout}${shimmed.stderr}`.trim().replace(/^/gm, "   ✗ "));

    step(
      11,
      "ann runs the suite for this HEAD, pushes (the gate says so), and reports again: accepted, the reporter runs",
    );
    show(await ann.call("run_pre_push_suite", {}));
    await sandbox.git(annDir, "push", "-q", "origin", "HEAD");
    show(await ann.call("gate_status", {}));
    const accepted = await ann.call("report_completed", { summary: "users.email added and validated" });
    show(accepted);

    step(12, "the head verifies the completion before merging: recomputed now, with main's config");
    const sha = (await sandbox.git(annDir, "rev-parse", "HEAD")).trim();
    show(await head.call("verify_completion", { worker: "ann", branch: "mai/ann/user-email", sha }));

    step(13, "where the state lives");
    say(`   ${sandbox.host}/.git/mai-gate/state.db (SQLite, WAL), shared by every worktree of the clone`);
    say("\nDone.");
  } finally {
    await Promise.all(servers.map((c) => c.close().catch(() => undefined)));
    await sandbox.cleanup();
    await prod.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
