import { ForbiddenError, IdentityError } from "./errors.js";

export const ROLES = ["worker", "head", "tester"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling. In stdio mode it comes from the environment the client's launcher set. */
export interface Identity {
  role: Role;
  /** Worker id; null when neither MAI_WORKER nor a `mai/<worker>/<task>` branch says. */
  worker: string | null;
  /** Where the worker id came from. */
  source: "env" | "branch" | "token" | "none";
  /** Branch checked out in the worktree; null when detached. */
  branch: string | null;
  /**
   * Set when MAI_WORKER names a worker other than the one in the branch name: in the worker role
   * nothing may be reserved, released or reported until it is fixed.
   */
  mismatch?: string;
}

const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WORKER_BRANCH = /^mai\/([^/]+)\/.+$/;

/** The worker a branch belongs to (`mai/<worker>/<task>`, local or `origin/…`), or null. */
export function workerOfBranch(ref: string): string | null {
  const m = WORKER_BRANCH.exec(ref.replace(/^(?:refs\/heads\/|refs\/remotes\/)?(?:origin\/)?/, ""));
  return m && WORKER_ID.test(m[1]!) ? m[1]! : null;
}

export function resolveIdentity(env: Record<string, string | undefined>, branch: string | null): Identity {
  const roleText = (env.MAI_ROLE ?? "worker").trim() || "worker";
  if (!(ROLES as readonly string[]).includes(roleText)) {
    throw new IdentityError(
      `MAI_ROLE="${roleText}" is not a role`,
      `Set MAI_ROLE to one of ${ROLES.join(", ")}.`,
    );
  }
  const role = roleText as Role;
  const fromEnv = env.MAI_WORKER?.trim();
  if (fromEnv) {
    if (!WORKER_ID.test(fromEnv)) {
      throw new IdentityError(
        `MAI_WORKER="${fromEnv}" is not a valid worker id`,
        "Use letters, digits, '.', '_' or '-' (at most 64 characters).",
      );
    }
    const owner = branch ? workerOfBranch(branch) : null;
    if (owner && owner !== fromEnv) {
      return {
        role,
        worker: fromEnv,
        source: "env",
        branch,
        mismatch: `MAI_WORKER=${fromEnv}, but the branch ${branch} belongs to ${owner}`,
      };
    }
    return { role, worker: fromEnv, source: "env", branch };
  }
  const owner = branch ? workerOfBranch(branch) : null;
  if (owner) return { role, worker: owner, source: "branch", branch };
  return { role, worker: null, source: "none", branch };
}

/** The calling worker's id, or an error that says how to provide one. */
export function requireWorkerId(identity: Identity): string {
  if (identity.mismatch && identity.role === "worker") {
    throw new IdentityError(
      `${identity.mismatch}: a worker acts only as the worker its branch names`,
      "Unset MAI_WORKER (the branch says who you are), or work on your own branch mai/<you>/<task>.",
    );
  }
  if (identity.worker) return identity.worker;
  throw new IdentityError(
    `cannot tell which worker is calling: MAI_WORKER is unset and the branch ${identity.branch ? `"${identity.branch}"` : "(detached HEAD)"} is not mai/<worker>/<task>`,
    "Check out your branch mai/<worker>/<task>, or set MAI_WORKER in the server's env in .mcp.json.",
  );
}

/** The id written to the audit log for this caller. */
export function actorOf(identity: Identity): string {
  return identity.worker ?? identity.role;
}

export function requireRole(identity: Identity, allowed: readonly Role[], action: string): void {
  if (allowed.includes(identity.role)) return;
  throw new ForbiddenError(
    `role "${identity.role}" may not ${action}; allowed: ${allowed.join(", ")}`,
    identity.role === "worker"
      ? "Ask the head to do it."
      : `Start the server with MAI_ROLE=${allowed[0]} for this action.`,
  );
}
