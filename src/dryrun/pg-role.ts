import type pg from "pg";
import { ScratchError } from "./engine.js";

/**
 * What the scratch role may do. A branch's migration is untrusted code and runs as this role: it
 * must not be a superuser, create roles, run server programs or read and write server files (so
 * `COPY … TO PROGRAM`, `lo_export`, `ALTER SYSTEM`, untrusted extensions such as dblink and
 * foreign servers are all refused by the server itself). It needs CREATEDB to make its clones.
 */
export interface ScratchRole {
  name: string;
  superuser: boolean;
  createRole: boolean;
  createDb: boolean;
  /** Predefined roles it is a member of that reach outside the database (server programs and files). */
  serverRoles: string[];
}

/** Predefined roles that let SQL reach the server's operating system. */
export const SERVER_ROLES = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"];

/** Reads the connected role's attributes and its membership in the server roles. */
export async function inspectRole(client: pg.Client): Promise<ScratchRole> {
  const { rows } = await client.query<{
    name: string;
    superuser: boolean;
    createrole: boolean;
    createdb: boolean;
    server_roles: string[] | null;
  }>(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
            ARRAY(SELECT s.rolname::text FROM pg_roles s
                  WHERE s.rolname = ANY($1::text[]) AND pg_has_role(r.oid, s.oid, 'MEMBER')) AS server_roles
       FROM pg_roles r WHERE r.rolname = current_user`,
    [SERVER_ROLES],
  );
  const r = rows[0];
  if (!r) throw new ScratchError("cannot read the scratch role's attributes (pg_roles has no current_user)");
  return {
    name: r.name,
    superuser: r.superuser,
    createRole: r.createrole,
    createDb: r.createdb,
    serverRoles: r.server_roles ?? [],
  };
}

const SETUP_HINT =
  "Run `mai-gate scratch setup ADMIN_DSN` once and point scratch.dsn at the role it creates (see the README's safety section).";

/**
 * Refuses a role that would let a migration escape its clone. A superuser is accepted only with
 * `scratch.allow_superuser: true`; the answer then carries a warning for every run.
 */
export function checkScratchRole(role: ScratchRole, allowSuperuser: boolean): { warnings: string[] } {
  if (role.superuser && !allowSuperuser)
    throw new ScratchError(
      `scratch.dsn logs in as ${role.name}, a superuser: a branch's migration could run OS commands (COPY … TO PROGRAM), write server files or reach other databases`,
      { hint: `${SETUP_HINT} Or set scratch.allow_superuser: true to accept the risk.` },
    );
  if (role.superuser)
    return {
      warnings: [
        `scratch.dsn is the superuser ${role.name} (scratch.allow_superuser: true): the branch's files ran with every privilege on the scratch server`,
      ],
    };
  const extra = [...(role.createRole ? ["CREATEROLE"] : []), ...role.serverRoles];
  if (extra.length > 0)
    throw new ScratchError(
      `the scratch role ${role.name} has ${extra.join(", ")}: a branch's migration could use it to leave its clone`,
      { hint: SETUP_HINT },
    );
  if (!role.createDb)
    throw new ScratchError(`the scratch role ${role.name} has no CREATEDB: it cannot make its clones`, {
      hint: SETUP_HINT,
    });
  return { warnings: [] };
}
