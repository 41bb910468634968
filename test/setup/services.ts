import { access, constants, readdir } from "node:fs/promises";
import { execa } from "execa";

/**
 * What the test suite needs from the machine, made ready before any test runs: PostgreSQL on
 * 127.0.0.1:5432 (started with `pg_ctlcluster` when it is installed but down) and the Debian
 * packages some tests run for real (see {@link DEBIAN_PACKAGES}), installed with one `apt-get
 * install` of those missing. Every step is bounded in time; a step that fails is returned as a
 * problem that says how to do it by hand, never skipped silently.
 */

export const CHROMIUM = "/usr/bin/chromium";

/** A Debian package the tests need: the file that shows it is installed, and who needs it. */
export interface DebianPackage {
  name: string;
  /** An executable the package installs. */
  path: string;
  /** The tests that need it, for the message when it cannot be installed. */
  for: string;
}

/** The Debian packages the tests run for real. */
export const DEBIAN_PACKAGES: DebianPackage[] = [
  { name: "chromium", path: CHROMIUM, for: "the status page test (test/integration/http.test.ts)" },
  {
    name: "docker.io",
    path: "/usr/sbin/dockerd",
    for: "the tests on a real Swarm (a private dockerd, test/helpers/dockerd.ts)",
  },
  {
    name: "busybox-static",
    path: "/bin/busybox",
    for: "the images of the tests on a real Swarm (docker import of a busybox root file system)",
  },
  {
    name: "golang-go",
    path: "/usr/bin/go",
    for: "the tests on real Go output (test/integration/go-real.test.ts)",
  },
];

/** A command's outcome as a value: `ok` when it exited 0; `output` is its stdout and stderr. */
export interface RunResult {
  ok: boolean;
  output: string;
}

/** Everything the setup touches on the machine, so a test can watch or replace it. */
export interface SetupDeps {
  run(command: string, args: string[], timeoutMs: number): Promise<RunResult>;
  /** The PostgreSQL major versions with a cluster directory under /etc/postgresql. */
  clusterVersions(): Promise<string[]>;
  /** Whether an executable file is at `path`. */
  present(path: string): Promise<boolean>;
  sleep(ms: number): Promise<void>;
  /** A one-line notice before a slow step (stderr). */
  notice(line: string): void;
  env: Record<string, string | undefined>;
  /** How long to wait for PostgreSQL to accept connections after starting it. */
  pgWaitMs: number;
}

const MINUTE = 60_000;
const APT_INSTALL_MS = 8 * MINUTE;
const APT_UPDATE_MS = 4 * MINUTE;
const PG_ISREADY = ["-h", "127.0.0.1", "-p", "5432", "-q"];

/** The real machine: commands through execa (never throwing), the real file system and clock. */
export function machine(): SetupDeps {
  return {
    async run(command, args, timeoutMs) {
      const r = await execa(command, args, {
        reject: false,
        timeout: timeoutMs,
        all: true,
        stdin: "ignore",
        env: { DEBIAN_FRONTEND: "noninteractive" },
      });
      const why = r.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : r.shortMessage;
      return { ok: !r.failed, output: r.failed ? `${r.all ?? ""}\n${why}`.trim() : (r.all ?? "") };
    },
    async clusterVersions() {
      const dirs = await readdir("/etc/postgresql").catch(() => []);
      return dirs.sort();
    },
    present: (path) =>
      access(path, constants.X_OK).then(
        () => true,
        () => false,
      ),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    notice: (line) => process.stderr.write(`test setup: ${line}\n`),
    env: process.env,
    pgWaitMs: 30_000,
  };
}

/** The last few lines of a command's output, for a message. */
function tail(output: string, lines = 6): string {
  const kept = output.trim().split("\n").slice(-lines).join("\n  ");
  return kept ? `\n  ${kept}` : "";
}

async function pgReady(deps: SetupDeps): Promise<boolean> {
  return (await deps.run("pg_isready", PG_ISREADY, 10_000)).ok;
}

/**
 * PostgreSQL on 127.0.0.1:5432: nothing to do when it accepts connections (or when
 * MAI_GATE_TEST_PG points the tests at another server); else start the first cluster and wait.
 * Returns null when ready, else what is wrong and how to fix it by hand.
 */
export async function ensurePostgres(deps: SetupDeps): Promise<string | null> {
  if (deps.env.MAI_GATE_TEST_PG) return null;
  if (await pgReady(deps)) return null;
  const [version] = await deps.clusterVersions();
  if (!version)
    return "PostgreSQL is not running on 127.0.0.1:5432 and no cluster is installed (/etc/postgresql is empty). Install and start it by hand: apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start";
  const start = ["--skip-systemctl-redirect", version, "main", "start"];
  const started = await deps.run("pg_ctlcluster", start, MINUTE);
  const until = Date.now() + deps.pgWaitMs;
  for (;;) {
    if (await pgReady(deps)) return null;
    if (Date.now() >= until) break;
    await deps.sleep(500);
  }
  return `PostgreSQL could not be started on 127.0.0.1:5432 (waited ${Math.round(deps.pgWaitMs / 1000)} s after pg_ctlcluster ${start.join(" ")})${tail(started.output)}\nStart it by hand: pg_ctlcluster ${start.join(" ")}; the tests need trust auth for postgres@127.0.0.1 (or set MAI_GATE_TEST_PG to an admin DSN).`;
}

/**
 * The Debian packages of `wanted` that are missing, installed with one `apt-get install -y` (apt
 * takes one lock, so never one call per package), and when that fails `apt-get update` and the
 * install again. Returns null when all are present, else what is wrong and how to fix it by hand.
 */
export async function ensureDebianPackages(
  deps: SetupDeps,
  wanted: DebianPackage[] = DEBIAN_PACKAGES,
): Promise<string | null> {
  const missing = await absent(deps, wanted);
  if (missing.length === 0) return null;
  const names = missing.map((p) => p.name);
  deps.notice(
    `missing ${missing.map((p) => p.path).join(", ")}: installing Debian's ${names.join(", ")} (a minute or two)`,
  );
  const install = ["install", "-y", ...names];
  let last = await deps.run("apt-get", install, APT_INSTALL_MS);
  if (!last.ok) {
    const update = await deps.run("apt-get", ["update"], APT_UPDATE_MS);
    last = update.ok ? await deps.run("apt-get", install, APT_INSTALL_MS) : update;
  }
  const still = await absent(deps, missing);
  if (last.ok && still.length === 0) return null;
  const failed = still.length > 0 ? still : missing;
  const said = last.ok
    ? `\n  apt-get succeeded but ${failed.map((p) => p.path).join(", ")} is still missing`
    : tail(last.output);
  const needs = failed.map((p) => `  ${p.name} (${p.path}): ${p.for}`).join("\n");
  return `Debian's ${failed.map((p) => p.name).join(", ")} could not be installed; the tests need:\n${needs}${said}\nInstall by hand as root: apt-get update && apt-get install -y ${failed.map((p) => p.name).join(" ")}`;
}

async function absent(deps: SetupDeps, wanted: DebianPackage[]): Promise<DebianPackage[]> {
  const present = await Promise.all(wanted.map((p) => deps.present(p.path)));
  return wanted.filter((_, i) => !present[i]);
}

/** Runs both steps; resolves when everything is ready, else rejects naming each problem. */
export async function ensureTestServices(deps: SetupDeps = machine()): Promise<void> {
  const problems = (await Promise.all([ensurePostgres(deps), ensureDebianPackages(deps)])).filter(
    (p): p is string => p !== null,
  );
  if (problems.length > 0)
    throw new Error(`the test setup could not make the machine ready:\n\n${problems.join("\n\n")}\n`);
}
