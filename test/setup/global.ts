import { setupScratchRole } from "../../src/dryrun/scratch-setup.js";
import { startCluster } from "../helpers/cluster.js";
import { ensureTestServices } from "./services.js";

/**
 * Vitest globalSetup: before any test runs, start PostgreSQL on 127.0.0.1:5432 and install
 * the Debian packages the tests run for real (chromium, docker.io, busybox-static, golang-go) when they
 * are missing (see services.ts); then start the scratch server, a
 * second cluster of the tests' own (dry runs are refused on production's server), with the
 * unprivileged role `mai-gate scratch setup` creates. Its DSNs reach the tests through the
 * environment (MAI_GATE_TEST_SCRATCH, MAI_GATE_TEST_SCRATCH_ADMIN). A failure stops the run with a
 * message that says what to do by hand.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureTestServices();
  const cluster = await startCluster();
  try {
    const { dsn } = await setupScratchRole(cluster.adminDsn);
    process.env.MAI_GATE_TEST_SCRATCH = dsn;
    process.env.MAI_GATE_TEST_SCRATCH_ADMIN = cluster.adminDsn;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return () => cluster.stop();
}
