import { benchBranches } from "./branches.js";
import { benchCheckout } from "./checkout.js";
import { benchDeploy } from "./deploy.js";
import { benchDryRun } from "./dryrun.js";
import { benchGate } from "./gate.js";
import { benchPgliteSnapshot } from "./pglite-snapshot.js";
import { benchReserve } from "./reserve.js";
import { benchReview } from "./review.js";
import { benchSite } from "./site.js";
import { benchStartup } from "./startup.js";
import { benchState } from "./state.js";
import { benchSuite } from "./suite.js";

/** `npm run bench`: every benchmark, each printed as a table with its baseline. Never fails CI. */
const benches: Record<string, () => Promise<void>> = {
  startup: benchStartup,
  reserve: benchReserve,
  branches: benchBranches,
  dryrun: benchDryRun,
  suite: benchSuite,
  checkout: benchCheckout,
  gate: benchGate,
  review: benchReview,
  deploy: benchDeploy,
  state: benchState,
  "pglite-snapshot": benchPgliteSnapshot,
  site: benchSite,
};

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (only.length > 0 && !only.includes(name)) continue;
  try {
    await run();
  } catch (err) {
    console.error(`bench ${name} failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  }
}
