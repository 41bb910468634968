/** The tests' own PostgreSQL clusters: see src/sandbox/pg-cluster.ts (the bench starts them too). */
export { freePort, pgBin, startCluster, type TestCluster } from "../../src/sandbox/pg-cluster.js";
