import { describe, expect, it } from "vitest";
import { explainFailure, indexSchemaChanges, type SchemaChange } from "../../../src/dryrun/explain.js";

type File = { file: string; version: number; sql: string };

const init: File = {
  file: "001_init.sql",
  version: 1,
  sql: [
    "CREATE TABLE rules (",
    "  id bigserial PRIMARY KEY,",
    "  name text NOT NULL,",
    "  is_mandatory boolean NOT NULL DEFAULT false,",
    "  is_blocking boolean NOT NULL DEFAULT false,",
    "  CONSTRAINT rules_name_chk CHECK (name <> '')",
    ");",
  ].join("\n"),
};

const dropFlags: File = {
  file: "091_drop_rule_flags.sql",
  version: 91,
  sql: [
    "-- The flags moved to rule_policies — see 090.",
    "",
    "ALTER TABLE rules DROP COLUMN is_mandatory, DROP COLUMN is_blocking;",
  ].join("\n"),
};

const explain = async (files: File[], sqlstate: string, message: string) =>
  explainFailure({ sqlstate, message }, await indexSchemaChanges(files));

describe("indexSchemaChanges", () => {
  it("records a CREATE TABLE with its columns and named constraints, then the drops", async () => {
    const changes = await indexSchemaChanges([init, dropFlags]);
    const row = (c: SchemaChange) => [c.file, c.version, c.kind, c.relation, c.object, c.newName, c.line];
    expect(changes.map(row)).toEqual([
      ["001_init.sql", 1, "create_table", null, "rules", null, 1],
      ["001_init.sql", 1, "add_column", "rules", "id", null, 1],
      ["001_init.sql", 1, "add_column", "rules", "name", null, 1],
      ["001_init.sql", 1, "add_column", "rules", "is_mandatory", null, 1],
      ["001_init.sql", 1, "add_column", "rules", "is_blocking", null, 1],
      ["001_init.sql", 1, "add_constraint", "rules", "rules_name_chk", null, 1],
      ["091_drop_rule_flags.sql", 91, "drop_column", "rules", "is_mandatory", null, 3],
      ["091_drop_rule_flags.sql", 91, "drop_column", "rules", "is_blocking", null, 3],
    ]);
  });

  it("reads names unqualified, several per DROP, and folded by the parser", async () => {
    const changes = await indexSchemaChanges([
      {
        file: "002_x.sql",
        version: 2,
        sql: [
          "DROP TABLE IF EXISTS audit.old_rules, Legacy CASCADE;",
          'DROP TYPE IF EXISTS app.rule_kind, "Severity";',
          "DROP FUNCTION app.rule_score(integer), touch_updated_at;",
          "DROP MATERIALIZED VIEW rule_stats;",
          "DROP INDEX CONCURRENTLY IF EXISTS app.rules_name_idx;",
          "ALTER TABLE ONLY app.rules RENAME CONSTRAINT rules_name_chk TO rules_name_not_blank;",
          "ALTER TABLE IF EXISTS app.rules RENAME TO policies;",
          'ALTER TABLE policies RENAME COLUMN "Title" TO title;',
          "CREATE TYPE app.rule_kind AS ENUM ('a', 'b');",
          "CREATE TYPE money_pair AS (amount numeric, currency text);",
          "CREATE OR REPLACE FUNCTION app.rule_score(r integer) RETURNS int LANGUAGE sql AS 'SELECT 1';",
          "CREATE SEQUENCE IF NOT EXISTS app.ticket_seq;",
          "CREATE UNIQUE INDEX rules_name_idx ON app.rules (name);",
          "CREATE VIEW app.active_rules AS SELECT 1;",
          "ALTER TABLE policies ADD COLUMN weight int CONSTRAINT weight_positive CHECK (weight > 0);",
        ].join("\n"),
      },
    ]);
    expect(changes.map((c) => [c.kind, c.relation, c.object, c.newName, c.line])).toEqual([
      ["drop_table", null, "old_rules", null, 1],
      ["drop_table", null, "legacy", null, 1],
      ["drop_type", null, "rule_kind", null, 2],
      ["drop_type", null, "Severity", null, 2],
      ["drop_function", null, "rule_score", null, 3],
      ["drop_function", null, "touch_updated_at", null, 3],
      ["drop_view", null, "rule_stats", null, 4],
      ["drop_index", null, "rules_name_idx", null, 5],
      ["rename_constraint", "rules", "rules_name_chk", "rules_name_not_blank", 6],
      ["rename_table", null, "rules", "policies", 7],
      ["rename_column", "policies", "Title", "title", 8],
      ["create_type", null, "rule_kind", null, 9],
      ["create_type", null, "money_pair", null, 10],
      ["create_function", null, "rule_score", null, 11],
      ["create_sequence", null, "ticket_seq", null, 12],
      ["create_index", "rules", "rules_name_idx", null, 13],
      ["create_view", null, "active_rules", null, 14],
      ["add_column", "policies", "weight", null, 15],
      ["add_constraint", "policies", "weight_positive", null, 15],
    ]);
  });

  it("skips a file that does not parse", async () => {
    const broken = { file: "050_broken.sql", version: 50, sql: "ALTER TABLE rules DROP COLUMN;" };
    const psql = { file: "051_psql.sql", version: 51, sql: "\\i 001_init.sql\nDROP TABLE rules;" };
    expect(await indexSchemaChanges([broken, psql, dropFlags])).toHaveLength(2);
  });
});

describe("explainFailure: objects that are gone", () => {
  it("names the migration that dropped the column (the second outage)", async () => {
    const message = 'column "is_mandatory" does not exist';
    expect(await explain([init, dropFlags], "42703", message)).toBe(
      "column `is_mandatory` does not exist — migration `091_drop_rule_flags.sql` dropped it (line 3)",
    );
  });

  it("matches the relation when the message names one, and accepts an alias as a preference", async () => {
    const files = [init, dropFlags];
    expect(await explain(files, "42703", 'column "is_blocking" of relation "rules" does not exist')).toBe(
      "column `is_blocking` of relation `rules` does not exist — migration `091_drop_rule_flags.sql` dropped it (line 3)",
    );
    expect(
      await explain(files, "42703", 'column "is_blocking" of relation "tickets" does not exist'),
    ).toBeNull();
    expect(await explain(files, "42703", "column r.is_mandatory does not exist")).toBe(
      "column `is_mandatory` does not exist — migration `091_drop_rule_flags.sql` dropped it (line 3)",
    );
  });

  it("explains renames with the new name", async () => {
    const rename: File = {
      file: "092_renames.sql",
      version: 92,
      sql: [
        "ALTER TABLE rules RENAME COLUMN name TO title;",
        "ALTER TABLE rules RENAME CONSTRAINT rules_name_chk TO rules_title_chk;",
        "ALTER TABLE public.rules RENAME TO policies;",
      ].join("\n"),
    };
    const files = [init, rename];
    expect(await explain(files, "42703", 'column "name" does not exist')).toBe(
      "column `name` does not exist — migration `092_renames.sql` renamed it to `title` (line 1)",
    );
    expect(
      await explain(files, "42704", 'constraint "rules_name_chk" of relation "rules" does not exist'),
    ).toBe(
      "constraint `rules_name_chk` of relation `rules` does not exist — migration `092_renames.sql` renamed it to `rules_title_chk` (line 2)",
    );
    expect(await explain(files, "42P01", 'relation "public.rules" does not exist')).toBe(
      "relation `rules` does not exist — migration `092_renames.sql` renamed it to `policies` (line 3)",
    );
  });

  it("explains dropped tables, views, types, functions, constraints and indexes", async () => {
    const drops: File = {
      file: "093_drops.sql",
      version: 93,
      sql: [
        "DROP TABLE IF EXISTS rule_audit, app.rule_notes;",
        "DROP VIEW active_rules;",
        "DROP TYPE IF EXISTS rule_kind;",
        "DROP FUNCTION rule_score(integer);",
        "ALTER TABLE rules DROP CONSTRAINT IF EXISTS rules_name_chk;",
        "DROP INDEX rules_name_idx;",
      ].join("\n"),
    };
    const cases: [string, string, string][] = [
      [
        "42P01",
        'relation "rule_notes" does not exist',
        "relation `rule_notes` does not exist — migration `093_drops.sql` dropped it (line 1)",
      ],
      [
        "42P01",
        'relation "app.rule_audit" does not exist',
        "relation `rule_audit` does not exist — migration `093_drops.sql` dropped it (line 1)",
      ],
      [
        "42P01",
        'relation "active_rules" does not exist',
        "relation `active_rules` does not exist — migration `093_drops.sql` dropped it (line 2)",
      ],
      [
        "42704",
        'type "rule_kind" does not exist',
        "type `rule_kind` does not exist — migration `093_drops.sql` dropped it (line 3)",
      ],
      [
        "42883",
        "function rule_score(integer) does not exist",
        "function `rule_score` does not exist — migration `093_drops.sql` dropped it (line 4)",
      ],
      [
        "42883",
        "function public.rule_score(bigint, text) does not exist",
        "function `rule_score` does not exist — migration `093_drops.sql` dropped it (line 4)",
      ],
      [
        "42704",
        'constraint "rules_name_chk" of relation "rules" does not exist',
        "constraint `rules_name_chk` of relation `rules` does not exist — migration `093_drops.sql` dropped it (line 5)",
      ],
      [
        "42704",
        'index "rules_name_idx" does not exist',
        "index `rules_name_idx` does not exist — migration `093_drops.sql` dropped it (line 6)",
      ],
    ];
    const changes = await indexSchemaChanges([init, drops]);
    for (const [sqlstate, message, expected] of cases) {
      expect(explainFailure({ sqlstate, message }, changes)).toBe(expected);
    }
  });
});

describe("explainFailure: objects that already exist", () => {
  const creates: File = {
    file: "094_creates.sql",
    version: 94,
    sql: [
      "CREATE TABLE rule_policies (id bigserial PRIMARY KEY, rule_id bigint NOT NULL);",
      "CREATE INDEX rule_policies_rule_idx ON rule_policies (rule_id);",
      "CREATE VIEW active_rules AS SELECT * FROM rules;",
      "CREATE SEQUENCE ticket_seq;",
      "ALTER TABLE rules ADD COLUMN severity int;",
      "ALTER TABLE rules ADD CONSTRAINT rules_severity_chk CHECK (severity > 0);",
      "CREATE TYPE rule_kind AS ENUM ('advisory', 'blocking');",
      "CREATE FUNCTION rule_score(r integer) RETURNS int LANGUAGE sql AS 'SELECT 1';",
    ].join("\n"),
  };

  it.each([
    [
      "42P07",
      'relation "rule_policies" already exists',
      "relation `rule_policies` already exists — migration `094_creates.sql` created it (line 1)",
    ],
    [
      "42P07",
      'relation "rule_policies_rule_idx" already exists',
      "relation `rule_policies_rule_idx` already exists — migration `094_creates.sql` created it (line 2)",
    ],
    [
      "42P07",
      'relation "active_rules" already exists',
      "relation `active_rules` already exists — migration `094_creates.sql` created it (line 3)",
    ],
    [
      "42P07",
      'relation "ticket_seq" already exists',
      "relation `ticket_seq` already exists — migration `094_creates.sql` created it (line 4)",
    ],
    [
      "42701",
      'column "severity" of relation "rules" already exists',
      "column `severity` of relation `rules` already exists — migration `094_creates.sql` created it (line 5)",
    ],
    [
      "42701",
      'column "rule_id" of relation "rule_policies" already exists',
      "column `rule_id` of relation `rule_policies` already exists — migration `094_creates.sql` created it (line 1)",
    ],
    [
      "42710",
      'constraint "rules_severity_chk" for relation "rules" already exists',
      "constraint `rules_severity_chk` of relation `rules` already exists — migration `094_creates.sql` created it (line 6)",
    ],
    [
      "42710",
      'type "rule_kind" already exists',
      "type `rule_kind` already exists — migration `094_creates.sql` created it (line 7)",
    ],
    [
      "42723",
      'function "rule_score" already exists with same argument types',
      "function `rule_score` already exists — migration `094_creates.sql` created it (line 8)",
    ],
  ])("%s %s", async (sqlstate, message, expected) => {
    expect(await explain([init, creates], sqlstate, message)).toBe(expected);
  });

  it("does not blame a column of another table", async () => {
    const message = 'column "severity" of relation "tickets" already exists';
    expect(await explain([init, creates], "42701", message)).toBeNull();
  });
});

describe("explainFailure: choosing and not finding", () => {
  it("names the latest change: the highest version, then the later line", async () => {
    const first: File = {
      file: "010_drop.sql",
      version: 10,
      sql: "ALTER TABLE rules DROP COLUMN IF EXISTS legacy;",
    };
    const second: File = {
      file: "120_cleanup.sql",
      version: 120,
      sql: "ALTER TABLE rules RENAME COLUMN legacy TO legacy_old;\nALTER TABLE rules DROP COLUMN IF EXISTS legacy;",
    };
    const message = 'column "legacy" does not exist';
    expect(await explain([init, first, second], "42703", message)).toBe(
      "column `legacy` does not exist — migration `120_cleanup.sql` dropped it (line 2)",
    );
    expect(await explain([init, second, first], "42703", message)).toBe(
      "column `legacy` does not exist — migration `120_cleanup.sql` dropped it (line 2)",
    );
  });

  it("returns null when nothing matches", async () => {
    const files = [init, dropFlags];
    expect(await explain(files, "42703", 'column "never_existed" does not exist')).toBeNull();
    expect(await explain(files, "42P01", 'relation "rules" does not exist')).toBeNull();
    expect(
      await explain(files, "23505", 'duplicate key value violates unique constraint "rules_pkey"'),
    ).toBeNull();
    expect(await explain(files, "42703", "something unexpected")).toBeNull();
    expect(
      explainFailure({ sqlstate: "42703", message: 'column "is_mandatory" does not exist' }, []),
    ).toBeNull();
  });

  it("does not confuse a dropped column with a created one", async () => {
    expect(
      await explain([init, dropFlags], "42701", 'column "is_mandatory" of relation "rules" already exists'),
    ).toBe(
      "column `is_mandatory` of relation `rules` already exists — migration `001_init.sql` created it (line 1)",
    );
  });
});
