import { MaiGateError } from "../errors.js";

/**
 * A failure talking to one of the deploy-status sources (Gitea, the health endpoint, Dokploy).
 * The message is one line and starts with the source's name; it never holds a token or key.
 */
export class SourceError extends MaiGateError {
  constructor(
    /** Which source failed: "gitea", "health", "dokploy". */
    readonly source: string,
    message: string,
    /** The next step for the caller, in one sentence; null when there is nothing to suggest. */
    hint: string | null,
    options?: { cause?: unknown },
  ) {
    super("deploy_source", message, { ...(hint ? { hint } : {}), cause: options?.cause });
  }
}
