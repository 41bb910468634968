import { chown, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

/**
 * A PostgreSQL cluster of its own for the tests and the bench: `initdb` in a temporary directory (as the `postgres` user
 * when running as root), a free port on 127.0.0.1, trust authentication, stopped and removed by
 * `stop()`. For a second, distinct server (the scratch server beside "production") or for server
 * settings the machine's cluster does not have.
 */
export interface TestCluster {
  port: number;
  dir: string;
  /** The superuser DSN of database `postgres`. */
  adminDsn: string;
  stop(): Promise<void>;
}

export async function pgBin(): Promise<string> {
  const versions = (await readdir("/usr/lib/postgresql").catch(() => [])).sort(
    (a, b) => Number(b) - Number(a),
  );
  if (!versions[0])
    throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startCluster(settings: string[] = []): Promise<TestCluster> {
  const bin = await pgBin();
  const dir = await mkdtemp(join(tmpdir(), "mai-gate-pg-"));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot ? execa("runuser", ["-u", "postgres", "--", cmd, ...args]) : execa(cmd, args);
  if (asRoot) {
    const { stdout } = await execa("id", ["-u", "postgres"]);
    const { stdout: gid } = await execa("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout), Number(gid));
  }
  const data = join(dir, "data");
  await run(`${bin}/initdb`, ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = ["-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"];
  for (const s of settings) options.push("-c", s);
  await run(`${bin}/pg_ctl`, [
    "-D",
    data,
    "-o",
    options.join(" "),
    "-l",
    join(dir, "log"),
    "-w",
    "-t",
    "60",
    "start",
  ]);
  return {
    port,
    dir,
    adminDsn: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
