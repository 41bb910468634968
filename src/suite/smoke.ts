import type { LoadedConfig } from "../config/load.js";
import { checkHealth } from "../deploy/health.js";
import { errorMessage } from "../errors.js";
import type { LiveSeen } from "../store/types.js";

/**
 * What the live site says as a smoke run starts: smoke checks the running system, so each run
 * records the sha the health endpoint (`deploy.health_url`) reports next to main's sha. Null when no
 * health URL is configured; an endpoint that cannot be asked (an unset `env:` variable, a bad URL)
 * is recorded with its error, never fatal to the run.
 */
export async function seeLive(loaded: LoadedConfig, now: () => number): Promise<LiveSeen | null> {
  const { deploy } = loaded.config;
  const unset = loaded.envRefs.find((r) => r.key === "deploy.health_url" && !r.set);
  if (!deploy.health_url && !unset) return null;
  const checkedAt = now();
  if (!deploy.health_url)
    return {
      checkedAt,
      up: null,
      sha: null,
      status: null,
      error: `deploy.health_url names ${unset!.env}, which is not set`,
    };
  try {
    const h = await checkHealth(
      {
        url: deploy.health_url,
        shaPointer: deploy.health_sha_pointer,
        schemaPointer: deploy.health_schema_pointer,
      },
      { timeoutMs: deploy.timeout_ms },
    );
    return { checkedAt, up: h.up, sha: h.sha, status: h.status, error: h.reason };
  } catch (err) {
    return { checkedAt, up: null, sha: null, status: null, error: errorMessage(err) };
  }
}
