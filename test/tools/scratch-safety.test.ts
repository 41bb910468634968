import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp, MIG_DIR, mainMigrations } from "../helpers/app.js";
import { connect, structured, textOf } from "../helpers/mcp.js";
import { PG_ADMIN, SCRATCH_ADMIN } from "../helpers/pg.js";

/** main's mai-gate.yaml with scratch on env:SCRATCH_DSN and these scratch settings. */
const scratchConfig = (scratch: Record<string, unknown> = {}) =>
  JSON.stringify({
    migrations: { dir: MIG_DIR, history_table: "paliad.applied_migrations" },
    prod: { dsn: "env:PROD_RO_DSN" },
    scratch: { dsn: "env:SCRATCH_DSN", ...scratch },
    git: { fetch_interval_seconds: 0 },
  });

/**
 * A branch's migration is untrusted code: it runs as an unprivileged role on a server that is
 * provably not production, and every way out of its clone is refused by the server itself.
 */
interface DryRun {
  passed: boolean;
  files: { status: string; failure: { message: string; explanation: string | null } | null }[];
  engine: { limitations: string[] };
}

const marker = (what: string) => `/tmp/maigate-escape-${what}-${process.pid}-${Date.now().toString(36)}`;

describe("escapes from the clone fail on the scratch server, and nothing outside changes", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  const program = marker("program");
  const lo = marker("lo");
  const ESCAPES: [string, string, RegExp][] = [
    [
      "COPY … TO PROGRAM",
      `COPY (SELECT 1) TO PROGRAM 'touch ${program}';`,
      /pg_execute_server_program|superuser/,
    ],
    ["CREATE EXTENSION dblink", "CREATE EXTENSION dblink;", /permission denied to create extension "dblink"/],
    [
      "dblink_exec without the extension",
      "SELECT dblink_exec('host=127.0.0.1 dbname=postgres', 'CREATE TABLE escaped (id int)');",
      /function dblink_exec\(unknown, unknown\) does not exist/,
    ],
    [
      "ALTER SYSTEM",
      "ALTER SYSTEM SET work_mem = '1GB';",
      /permission denied to set parameter|must be superuser/,
    ],
    [
      "lo_export",
      `SELECT lo_export(lo_from_bytea(0, 'x'), '${lo}');`,
      /permission denied for function lo_export/,
    ],
    [
      "SET ROLE to a superuser",
      "SET ROLE postgres;\nCREATE TABLE as_postgres (id int);",
      /permission denied to set role/,
    ],
    [
      "CREATE SERVER",
      "CREATE SERVER elsewhere FOREIGN DATA WRAPPER postgres_fdw;",
      /foreign-data wrapper "postgres_fdw" does not exist/,
    ],
  ];

  it.each(ESCAPES)("%s fails, says why, and leaves no trace", async (_, sql, why) => {
    const c = await app.session(`mai/esc/${Math.random().toString(36).slice(2, 8)}`);
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, MIG_DIR, "004_escape.sql"), sql);
    const r = structured<DryRun>(await c.call("dry_run_migration", {}));
    expect(r.passed).toBe(false);
    expect(r.files[0]!.status).toBe("failed");
    expect(r.files[0]!.failure!.message).toMatch(why);
    expect(existsSync(program)).toBe(false);
    expect(existsSync(lo)).toBe(false);
    const prod = new pg.Client({ connectionString: PG_ADMIN });
    await prod.connect();
    const tables = await prod.query("SELECT 1 FROM pg_tables WHERE tablename IN ('escaped', 'as_postgres')");
    await prod.end();
    expect(tables.rowCount).toBe(0);
  });

  it("explains a privilege error: the role is unprivileged on purpose", async () => {
    const c = await app.session("mai/esc/explained");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, MIG_DIR, "004_escape.sql"), "ALTER SYSTEM SET work_mem = '1GB';\n");
    const r = structured<DryRun>(await c.call("dry_run_migration", {}));
    expect(r.files[0]!.failure!.explanation).toContain("unprivileged role on purpose");
  });
});

describe("the scratch server must be provably not production, with an unprivileged role", () => {
  let app: App;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(3), appliedUpTo: 3 });
  });
  afterAll(async () => {
    await app.cleanup();
  });

  const dryRunWith = async (env: Record<string, string>, scratch?: Record<string, unknown>) => {
    if (scratch)
      await app.sandbox.commitToMain(
        {
          "mai-gate.yaml": scratchConfig(scratch),
        },
        "scratch settings",
      );
    const root = await app.sandbox.worktree(`mai/fen/${Math.random().toString(36).slice(2, 8)}`);
    await writeFile(join(root, MIG_DIR, "004_ok.sql"), "CREATE TABLE ok (id int);\n");
    const c = await connect({ cwd: root, env: { ...app.env, ...env } });
    try {
      return await c.call("dry_run_migration", {});
    } finally {
      await c.close();
    }
  };

  it("a superuser scratch.dsn is refused, and accepted with allow_superuser and a warning", async () => {
    const refused = await dryRunWith({ SCRATCH_DSN: SCRATCH_ADMIN });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/\[scratch\] scratch\.dsn logs in as postgres, a superuser/);
    const allowed = await dryRunWith({ SCRATCH_DSN: SCRATCH_ADMIN }, { allow_superuser: true });
    const r = structured<DryRun>(allowed);
    expect(r.files[0]!.status).toBe("applied");
    expect(r.engine.limitations.join(" ")).toContain("scratch.allow_superuser: true");
    expect(textOf(allowed)).toContain("ran with every privilege");
  });

  it("a scratch database on production's own server is refused unless allowed; production's database never", async () => {
    const sameServer = await dryRunWith({ SCRATCH_DSN: PG_ADMIN }, {});
    expect(textOf(sameServer)).toContain("scratch.dsn is on production's own server");
    const local = new URL(app.prod.dsn);
    local.hostname = "localhost";
    const alias = await dryRunWith(
      { SCRATCH_DSN: local.toString() },
      { allow_production_server: true, allow_superuser: true },
    );
    expect(textOf(alias)).toContain("scratch.dsn is production's database");
    const allowed = await dryRunWith(
      { SCRATCH_DSN: PG_ADMIN },
      { allow_production_server: true, allow_superuser: true },
    );
    expect(structured<DryRun>(allowed).files[0]!.status).toBe("applied");
  });

  it("fails closed: production unreachable means no dry run, with the reason", async () => {
    const r = await dryRunWith({ PROD_RO_DSN: "postgres://postgres@127.0.0.1:1/postgres" }, {});
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(
      "cannot prove the scratch server is not production: production could not be identified",
    );
  });
});

describe("pg_dump gets production's password from a 0600 passfile, never in argv", () => {
  let app: App;
  let seen: string;
  beforeAll(async () => {
    app = await createApp({ migrations: mainMigrations(2), appliedUpTo: 2 });
    seen = join(app.sandbox.dir, "pg_dump.seen");
    const fake = join(app.sandbox.dir, "pg_dump");
    await writeFile(
      fake,
      `#!/bin/sh
if [ "$1" = "--version" ]; then exec pg_dump --version; fi
printf 'argv:%s\\n' "$*" >> ${seen}
printf 'passfile:%s\\n' "$(stat -c %a "$PGPASSFILE")" >> ${seen}
printf 'line:%s\\n' "$(cat "$PGPASSFILE")" >> ${seen}
printf 'passfile of %s\\n' "$PGPASSFILE" >> ${seen}
exec pg_dump "$@"
`,
    );
    await chmod(fake, 0o755);
    const password = "s3cret-pw";
    const withPassword = new URL(app.prod.dsnReadOnly);
    withPassword.password = password;
    await app.sandbox.commitToMain(
      {
        "mai-gate.yaml": scratchConfig({ pg_dump: fake }),
      },
      "a recording pg_dump",
    );
    app.env.PROD_RO_DSN = withPassword.toString();
  });
  afterAll(async () => {
    await app.cleanup();
  });

  it("dumps with the password only in the passfile, which is gone afterwards", async () => {
    const c = await app.session("mai/pgd/argv");
    const root = (await c.workspace.repo()).root;
    await writeFile(join(root, MIG_DIR, "003_x.sql"), "CREATE TABLE x (id int);\n");
    expect(structured<DryRun>(await c.call("dry_run_migration", {})).files[0]!.status).toBe("applied");
    const log = await readFile(seen, "utf8");
    expect(log).toContain("argv:--schema-only --no-owner --no-privileges --dbname postgres://");
    expect(log).not.toMatch(/argv:.*s3cret/);
    expect(log).toContain("passfile:600");
    expect(log).toContain("line:*:*:*:*:s3cret-pw");
    const passfile = /passfile of (\S+)/.exec(log)?.[1];
    expect(passfile && existsSync(passfile)).toBe(false);
  });
});
