import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openPostgresStore } from "../../src/store/postgres.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { StateStore } from "../../src/store/types.js";
import { PG_ADMIN } from "./pg.js";

/** One state backend under test: fresh empty locations, stores opened on them, and the cleanup. */
export interface StateBackend {
  name: string;
  /** A new, empty location (a file path or a DSN). */
  fresh(): Promise<string>;
  open(location: string): Promise<StateStore>;
  /** Removes every location `fresh` made. */
  cleanup(): Promise<void>;
}

export function sqliteBackend(): StateBackend {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async fresh() {
      const dir = await mkdtemp(join(tmpdir(), "mai-gate-state-"));
      dirs.push(dir);
      return join(dir, "state.db");
    },
    async open(location) {
      return openSqliteStore(location);
    },
    async cleanup() {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Fresh databases `maigate_test_state_<random>` on the test server, dropped by `cleanup`. */
export function postgresBackend(): StateBackend {
  const names: string[] = [];
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: PG_ADMIN });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: "postgres",
    async fresh() {
      const name = `maigate_test_state_${randomBytes(6).toString("hex")}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      names.push(name);
      const url = new URL(PG_ADMIN);
      url.pathname = `/${name}`;
      return url.toString();
    },
    open(location) {
      return openPostgresStore(location);
    },
    async cleanup() {
      await admin(async (c) => {
        for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}
