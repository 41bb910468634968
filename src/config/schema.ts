import { z } from "zod";
import { compilePattern, groupNames } from "../migrations/pattern.js";

/**
 * The shape of `mai-gate.yaml`. The keys are the public interface (see DESIGN.md, Configuration);
 * every object is strict so a misspelt key is an error that names it, not a silent default.
 */

/** A plain PostgreSQL identifier: what `quoteTable` accepts, within NAMEDATALEN (63 bytes). */
const IDENTIFIER = "[A-Za-z_][A-Za-z0-9_$]{0,62}";
/** `table` or `schema.table`, each part a plain identifier. */
export const HISTORY_TABLE = new RegExp(`^${IDENTIFIER}(?:\\.${IDENTIFIER})?$`);

const historyFormat = z
  .enum(["rows", "golang-migrate", "goose", "flyway"])
  .describe("how the app's migrator records applied migrations");

export const migrationsSchema = z
  .object({
    dir: z.string().min(1).describe("migration directory, relative to the repository root"),
    layout: z
      .enum(["numbered", "golang-migrate", "timestamp", "custom"])
      .default("numbered")
      .describe("how file names carry (version, name, direction)"),
    pattern: z
      .string()
      .optional()
      .describe(
        "custom layout: a regular expression (RE2 syntax, matched in linear time: no backreferences or lookaround) with named groups `version`, `name` and optional `direction`",
      ),
    template: z
      .string()
      .optional()
      .describe("custom layout: the file name to create, with {version}, {name} and optional {direction}"),
    width: z
      .number()
      .int()
      .min(1)
      .max(20)
      .optional()
      .describe("zero-pad new versions to this many digits; default: as main's files are padded"),
    history_table: z
      .string()
      .regex(
        HISTORY_TABLE,
        "must be a table name or schema.table, each part [A-Za-z_][A-Za-z0-9_$]* of at most 63 characters (no quotes, no SQL)",
      )
      .optional()
      .describe("production's history table: `table` or `schema.table`, plain identifiers"),
    history_format: historyFormat.default("rows"),
    ordering: z
      .enum(["set", "strict"])
      .default("set")
      .describe("set: any unapplied version is applied; strict: versions must exceed the applied maximum"),
    transaction: z
      .enum(["per-file", "all"])
      .default("per-file")
      .describe("how the app's migrator wraps files"),
    duplicates: z
      .enum(["error", "allow"])
      .default("error")
      .describe(
        "error: two files of one version are a defect; allow: the migrator compares whole file names (a new duplicate on a branch is still red)",
      ),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.layout === "custom" && !m.pattern) {
      ctx.addIssue({ code: "custom", path: ["pattern"], message: "required when layout is custom" });
    }
    if (m.layout === "custom" && !m.template) {
      ctx.addIssue({ code: "custom", path: ["template"], message: "required when layout is custom" });
    }
    if (m.pattern) {
      const compiled = compilePattern(m.pattern);
      if (!compiled.ok) {
        ctx.addIssue({
          code: "custom",
          path: ["pattern"],
          message: `not a pattern the linear-time engine (RE2) accepts: ${compiled.reason}; backreferences and lookaround are not supported`,
        });
      } else {
        const names = groupNames(compiled.re);
        if (!names.has("version") || !names.has("name")) {
          ctx.addIssue({
            code: "custom",
            path: ["pattern"],
            message: "needs named groups (?<version>…) and (?<name>…)",
          });
        }
      }
    }
    if (m.template && (!m.template.includes("{version}") || !m.template.includes("{name}"))) {
      ctx.addIssue({ code: "custom", path: ["template"], message: "must contain {version} and {name}" });
    }
  });

const stepSchema = z
  .object({
    name: z.string().min(1),
    run: z.union([z.string().min(1), z.array(z.string()).min(1)]),
    cwd: z.string().optional(),
    timeout: z.number().positive().optional(),
    env: z.record(z.string(), z.string()).optional(),
    when: z.array(z.string()).optional(),
    parallel: z.boolean().optional(),
    share: z
      .array(z.string().min(1))
      .max(20)
      .optional()
      .describe(
        "paths git does not hold (a dependency cache such as frontend/node_modules) linked from the worktree into the clean checkout; listed in the run's record",
      ),
  })
  .strict();

/** deploy_status calls the latest smoke run stale after this long (suite.smoke_max_age_minutes). */
export const SMOKE_MAX_AGE_MINUTES = 30;

/** When the head's review calls a worker stale (review.*). */
export const REVIEW_DEFAULTS = { stale_hours: 24, silent_hours: 72 };

const SCRATCH_DEFAULTS = {
  baseline: "prod",
  baseline_max_age_minutes: 60,
  pg_dump: "pg_dump",
  allow_superuser: false,
  allow_production_server: false,
  prelude: [],
  keep: { templates: 8, megabytes: 2048 },
};

export const scratchSchema = z
  .object({
    dsn: z
      .string()
      .optional()
      .describe(
        "an unprivileged role (mai-gate scratch setup) on the server where clones are made; absent = embedded PGlite",
      ),
    admin_dsn: z
      .string()
      .optional()
      .describe(
        "optional: runs the prelude and the extensions a baseline needs; the branch's files never run on it",
      ),
    allow_superuser: z
      .boolean()
      .default(false)
      .describe(
        "accept a superuser scratch.dsn (a warning on every run): branch migrations then run with every privilege",
      ),
    allow_production_server: z
      .boolean()
      .default(false)
      .describe("accept a scratch database on production's own server (never production's database itself)"),
    baseline: z
      .string()
      .regex(/^(prod|replay|file:.+)$/, "must be prod, replay or file:PATH")
      .default("prod")
      .describe("prod (pg_dump of production's schema) | replay (main's migrations from empty) | file:PATH"),
    baseline_max_age_minutes: z
      .number()
      .positive()
      .default(60)
      .describe("re-dump production's schema after this long even if its history did not change"),
    pg_dump: z.string().min(1).default("pg_dump").describe("the pg_dump binary to use"),
    prelude: z
      .array(z.string().min(1).max(100_000))
      .max(200)
      .default([])
      .describe(
        "SQL statements (or file:PATH on main) run on the empty database before a replay or file baseline, by admin_dsn when set: the migrator's table, roles, extensions",
      ),
    keep: z
      .object({
        templates: z
          .number()
          .int()
          .min(1)
          .max(200)
          .default(8)
          .describe("template databases kept, least recently used evicted"),
        megabytes: z
          .number()
          .int()
          .min(16)
          .max(1_000_000)
          .default(2048)
          .describe("total size kept for templates and warm clones"),
      })
      .strict()
      .default({ templates: 8, megabytes: 2048 }),
  })
  .strict()
  .default(SCRATCH_DEFAULTS);

const PROD_DEFAULTS = {
  connect_timeout_ms: 3000,
  statement_timeout_ms: 5000,
  probe: false,
  probe_timeout_ms: 5000,
  queries: { limit: 500 },
};

export const prodSchema = z
  .object({
    dsn: z
      .string()
      .optional()
      .describe(
        "read-only DSN of production: reads history, dumps the schema, and (site safety) reads pg_stat_statements and table sizes",
      ),
    connect_timeout_ms: z.number().int().positive().default(3000),
    statement_timeout_ms: z.number().int().positive().default(5000),
    probe: z
      .boolean()
      .default(false)
      .describe(
        "run read-only data probes on production for statements that validate existing rows (SET NOT NULL, CHECK, UNIQUE, FOREIGN KEY, TYPE … USING)",
      ),
    probe_dsn: z
      .string()
      .optional()
      .describe("read-only DSN the probes use instead of dsn (a replica); setting it turns probes on"),
    probe_timeout_ms: z
      .number()
      .int()
      .positive()
      .max(600_000)
      .default(5000)
      .describe("statement timeout of each probe; a probe that exceeds it is reported as not verified"),
    queries: z
      .object({
        limit: z
          .number()
          .int()
          .min(0)
          .max(5000)
          .default(500)
          .describe(
            "the top N statements of pg_stat_statements (by calls) prepared before and after (0: none)",
          ),
      })
      .strict()
      .default({ limit: 500 }),
  })
  .strict()
  .default(PROD_DEFAULTS);

const DRY_RUN_DEFAULTS = {
  site_safety: true,
  queries: [],
  lock: { max_rows: 100_000 },
  other_branches: 5,
  lint: { ignore: [] },
};

export const dryRunSchema = z
  .object({
    site_safety: z
      .boolean()
      .default(true)
      .describe(
        "check that the site stays up, beyond the files applying: live queries prepared before and after, data probes (prod.probe), lock impact, other open branches",
      ),
    queries: z
      .array(z.string().min(1).max(500))
      .max(50)
      .default([])
      .describe(
        "globs of query files (e.g. sqlc's queries/*.sql) read from the commit being judged; each statement is prepared before and after the branch's migrations",
      ),
    lock: z
      .object({
        max_rows: z
          .number()
          .int()
          .min(0)
          .default(100_000)
          .describe(
            "a statement that rewrites, validates or indexes a table of more rows than this (production's estimate) under a blocking lock is red unless acknowledged",
          ),
      })
      .strict()
      .default({ max_rows: 100_000 }),
    other_branches: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(5)
      .describe(
        "rehearse the branch's files after each of up to this many other branches' unmerged migrations (a warning, never red)",
      ),
    lint: z
      .object({
        ignore: z
          .array(z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "a squawk rule name, e.g. prefer-identity"))
          .max(100)
          .default([])
          .describe("squawk rules this repository does not follow (its findings are advisory either way)"),
      })
      .strict()
      .default({ ignore: [] }),
  })
  .strict()
  .default(DRY_RUN_DEFAULTS);

export const configSchema = z
  .object({
    main_branch: z
      .string()
      .min(1)
      .default("origin/main")
      .describe("the ref that is main, usually origin/main"),
    migrations: migrationsSchema,
    prod: prodSchema,
    scratch: scratchSchema,
    dry_run: dryRunSchema,
    smoke_sql: z
      .array(z.string().min(1).max(10_000))
      .max(100)
      .optional()
      .describe("read-only queries run on the migrated clone inside every rehearsal; one that breaks is red"),
    suite: z
      .object({
        pre_push: z.array(stepSchema).optional(),
        smoke: z.array(stepSchema).optional(),
        smoke_max_age_minutes: z
          .number()
          .positive()
          .max(7 * 24 * 60)
          .default(SMOKE_MAX_AGE_MINUTES)
          .describe("deploy_status calls the latest smoke run stale after this many minutes"),
      })
      .strict()
      .optional(),
    deploy: z
      .object({
        gitea: z
          .object({ url: z.string(), repo: z.string(), token: z.string().optional() })
          .strict()
          .optional(),
        health_url: z.string().optional().describe("the live site's readiness endpoint"),
        health_sha_pointer: z.string().optional().describe("JSON pointer to the git sha in the health body"),
        health_schema_pointer: z
          .string()
          .optional()
          .describe("JSON pointer to the schema version in the health body"),
        timeout_ms: z.number().int().positive().default(3000).describe("per-source timeout of deploy_status"),
        cache_seconds: z.number().min(0).default(5).describe("deploy_status answers are shared this long"),
        dokploy: z
          .object({ url: z.string(), api_key: z.string().optional(), application_id: z.string() })
          .strict()
          .optional(),
        compose: z
          .string()
          .optional()
          .describe("the stack file whose deploy settings check_deploy_config reads (on main)"),
        docker: z
          .string()
          .min(1)
          .optional()
          .describe(
            "the Docker Engine of a Swarm manager: unix:///var/run/docker.sock, or tcp://host:2376 with docker_tls",
          ),
        docker_tls: z
          .object({
            ca: z
              .string()
              .optional()
              .describe("the CA certificate (PEM text or a path), e.g. env:DOCKER_TLS_CA"),
            cert: z.string().optional().describe("the client certificate (PEM text or a path)"),
            key: z
              .string()
              .optional()
              .describe("the client key (PEM text or a path), e.g. env:DOCKER_TLS_KEY"),
          })
          .strict()
          .optional()
          .describe("TLS material for a tcp:// engine, as `docker --tlsverify` uses it"),
        service: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "must be a Swarm service name (letters, digits, _ . -)")
          .optional()
          .describe("the app's Swarm service, as `docker service ls` names it (stack_service)"),
        migrate_command: z
          .string()
          .optional()
          .describe(
            "the app's migrate command: found in an entrypoint, it is reported as a migration at start",
          ),
      })
      .strict()
      .default({ timeout_ms: 3000, cache_seconds: 5 }),
    gate: z
      .object({
        require: z
          .array(z.enum(["clean_tree", "suite", "migrations", "pushed"]))
          .optional()
          .describe("the gate's requirements; default all four (pushed: the remote branch is at HEAD)"),
        reporter: z
          .array(z.string())
          .min(1)
          .optional()
          .describe(
            "argv run on a green report_completed; {summary} {worker} {branch} {sha} are substituted",
          ),
        reporter_timeout_seconds: z.number().positive().default(60),
      })
      .strict()
      .optional(),
    leases: z
      .object({
        ttl_hours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(72),
      })
      .strict()
      .default({ ttl_hours: 72 }),
    git: z
      .object({
        remote: z
          .string()
          .optional()
          .describe("remote to fetch before deciding; default: main_branch's remote"),
        fetch_interval_seconds: z.number().min(0).default(5),
        fetch_timeout_seconds: z.number().positive().default(10),
      })
      .strict()
      .default({ fetch_interval_seconds: 5, fetch_timeout_seconds: 10 }),
    review: z
      .object({
        stale_hours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(REVIEW_DEFAULTS.stale_hours)
          .describe("a worker whose leases are older than this on a branch never pushed is stale"),
        silent_hours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(REVIEW_DEFAULTS.silent_hours)
          .describe("a worker with open work and no commit, lease, run or completion for this long is stale"),
      })
      .strict()
      .default(REVIEW_DEFAULTS),
    state: z.string().optional().describe("a SQLite path, or postgres://… when workers span hosts"),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** suite.smoke_max_age_minutes, also when the config has no suite section. */
export function smokeMaxAgeMinutes(config: Config): number {
  return config.suite?.smoke_max_age_minutes ?? SMOKE_MAX_AGE_MINUTES;
}
export type MigrationsConfig = z.infer<typeof migrationsSchema>;
export type ScratchConfig = z.infer<typeof scratchSchema>;
export type ProdConfig = z.infer<typeof prodSchema>;
export type DryRunConfig = z.infer<typeof dryRunSchema>;
export type Layout = MigrationsConfig["layout"];
export type HistoryFormat = z.infer<typeof historyFormat>;
