import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * A stand-in for production for the demo: real Postgres (PGlite, compiled to WASM) in this
 * process, reachable over the Postgres wire protocol on a loopback port, so the mai-gate server
 * reads its history exactly as it would read the real one.
 */
export async function startEmbeddedProduction(setupSql: string) {
  const db = await PGlite.create();
  await db.exec(setupSql);
  // PGlite is one session; the socket server queues statements from several clients onto it.
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 });
  await server.start();
  const address = server.getServerConn();
  return {
    dsn: `postgres://postgres@${address}/postgres?sslmode=disable`,
    address,
    exec: (sql: string) => db.exec(sql),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
