import type { StateStore } from "../store/types.js";
import type { SiteFinding } from "./types.js";

/** A site-safety warning a file's author accepted with a marker, from the file's latest dry run. */
export interface AcknowledgedRisk {
  file: string;
  worker: string;
  runId: string;
  check: SiteFinding["check"];
  /** May quote a query (untrusted text). */
  message: string;
  /** The marker, e.g. `-- mai-gate: contract users.email`. */
  marker: string;
}

/**
 * The acknowledged warnings recorded by the latest dry run of each file (by path): what deploy
 * status and the head's lease review show, so a deliberate contract step or long lock is seen
 * before it ships. Only each file's latest dry run is read.
 */
export async function acknowledgedRisks(store: StateStore, files: string[]): Promise<AcknowledgedRisk[]> {
  const out: AcknowledgedRisk[] = [];
  for (const file of [...new Set(files)].slice(0, 200)) {
    const [latest] = await store.dryRuns({ file, limit: 1 });
    const site = (latest?.report as { site?: SiteFinding[] } | null)?.site ?? [];
    for (const f of site) {
      if (!f.acknowledged) continue;
      out.push({
        file,
        worker: latest!.worker,
        runId: latest!.runId,
        check: f.check,
        message: f.message,
        marker: f.acknowledged,
      });
    }
  }
  return out;
}
