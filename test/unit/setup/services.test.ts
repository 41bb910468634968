import { describe, expect, it } from "vitest";
import {
  DEBIAN_PACKAGES,
  ensureDebianPackages,
  ensurePostgres,
  ensureTestServices,
  machine,
  type RunResult,
  type SetupDeps,
} from "../../setup/services.js";

/** Watches every command and notice of `deps`, passing each through. */
function watched(deps: SetupDeps) {
  const commands: string[] = [];
  const notices: string[] = [];
  const w: SetupDeps = {
    ...deps,
    async run(command, args, timeoutMs) {
      commands.push([command, ...args].join(" "));
      return deps.run(command, args, timeoutMs);
    },
    notice: (line) => notices.push(line),
  };
  return { deps: w, commands, notices };
}

/**
 * A machine in a given state, for the decisions that cannot be made for real here (this test
 * does not stop PostgreSQL or uninstall chromium): each command answers from `answers` in turn.
 */
function scripted(options: {
  answers: Record<string, RunResult[]>;
  clusters?: string[];
  /** Whether a package's file is there; default: every one is. */
  present?: (path: string) => boolean;
  env?: Record<string, string>;
}): SetupDeps {
  return {
    async run(command, args) {
      const key = [command, ...args].join(" ");
      const queue = options.answers[key] ?? options.answers[command];
      return queue?.shift() ?? { ok: false, output: `${key}: not scripted` };
    },
    clusterVersions: async () => options.clusters ?? ["15"],
    present: async (path) => options.present?.(path) ?? true,
    sleep: async () => undefined,
    notice: () => undefined,
    env: options.env ?? {},
    pgWaitMs: 50,
  };
}

const yes = { ok: true, output: "" };
const no = (output: string) => ({ ok: false, output });

describe("the test setup (test/setup/services.ts)", () => {
  it("on this machine, with PostgreSQL up and the Debian packages installed, only asks pg_isready and installs nothing", async () => {
    const w = watched(machine());
    await ensureTestServices(w.deps);
    // With MAI_GATE_TEST_PG set the tests use that server, and the local one is not looked at.
    expect(w.commands).toEqual(process.env.MAI_GATE_TEST_PG ? [] : ["pg_isready -h 127.0.0.1 -p 5432 -q"]);
    expect(w.notices).toEqual([]);
  });

  it("starts the first cluster with pg_ctlcluster when pg_isready fails, and waits until it answers", async () => {
    const w = watched(
      scripted({
        clusters: ["15", "16"],
        answers: { pg_isready: [no(""), no(""), no(""), yes], pg_ctlcluster: [yes] },
      }),
    );
    expect(await ensurePostgres(w.deps)).toBeNull();
    expect(w.commands.filter((c) => c.startsWith("pg_ctlcluster"))).toEqual([
      "pg_ctlcluster --skip-systemctl-redirect 15 main start",
    ]);
    expect(w.commands.filter((c) => c.startsWith("pg_isready"))).toHaveLength(4);
  });

  it("says how to start PostgreSQL by hand when it does not come up, with pg_ctlcluster's words", async () => {
    const deps = scripted({
      answers: {
        pg_isready: Array.from({ length: 500 }, () => no("")),
        pg_ctlcluster: [no("Error: bad config")],
      },
    });
    const problem = await ensurePostgres(deps);
    expect(problem).toContain("PostgreSQL could not be started on 127.0.0.1:5432");
    expect(problem).toContain("Error: bad config");
    expect(problem).toContain("Start it by hand: pg_ctlcluster --skip-systemctl-redirect 15 main start");
    const none = await ensurePostgres(scripted({ clusters: [], answers: { pg_isready: [no("")] } }));
    expect(none).toContain("no cluster is installed");
    expect(none).toContain("apt-get install -y postgresql");
  });

  it("leaves PostgreSQL alone when MAI_GATE_TEST_PG points the tests at another server", async () => {
    const w = watched(scripted({ env: { MAI_GATE_TEST_PG: "postgres://x@db:5432/postgres" }, answers: {} }));
    expect(await ensurePostgres(w.deps)).toBeNull();
    expect(w.commands).toEqual([]);
  });

  it("installs every missing package with one apt-get install, and runs apt-get update first when it fails", async () => {
    const installed = new Set<string>(["/usr/sbin/dockerd"]);
    const deps = scripted({
      present: (path) => installed.has(path),
      answers: {
        "apt-get install -y chromium busybox-static golang-go": [
          no("E: Unable to locate package chromium"),
          yes,
        ],
        "apt-get update": [yes],
      },
    });
    const w = watched({
      ...deps,
      async run(command, args, timeoutMs) {
        const r = await deps.run(command, args, timeoutMs);
        if (r.ok && args[0] === "install") for (const p of DEBIAN_PACKAGES) installed.add(p.path);
        return r;
      },
    });
    expect(await ensureDebianPackages(w.deps)).toBeNull();
    expect(w.commands).toEqual([
      "apt-get install -y chromium busybox-static golang-go",
      "apt-get update",
      "apt-get install -y chromium busybox-static golang-go",
    ]);
    expect(w.notices).toEqual([
      expect.stringContaining("installing Debian's chromium, busybox-static, golang-go"),
    ]);
  });

  it("fails the run, naming each package, the tests that need it and the command to run by hand", async () => {
    const deps = scripted({
      present: (path) => path !== "/usr/sbin/dockerd" && path !== "/usr/bin/go",
      answers: {
        pg_isready: [yes],
        "apt-get install -y docker.io golang-go": [no("E: Could not open lock file - are you root?")],
        "apt-get update": [no("E: Could not open lock file /var/lib/apt/lists/lock")],
      },
    });
    const run = ensureTestServices(deps);
    await expect(run).rejects.toThrow(/Debian's docker.io, golang-go could not be installed/);
    await expect(run).rejects.toThrow(/docker.io \(\/usr\/sbin\/dockerd\): the tests on a real Swarm/);
    await expect(run).rejects.toThrow(/Could not open lock file \/var\/lib\/apt\/lists\/lock/);
    await expect(run).rejects.toThrow(
      /Install by hand as root: apt-get update && apt-get install -y docker.io golang-go/,
    );
  });

  it("names only the package still missing when apt-get succeeded without installing it", async () => {
    const deps = scripted({
      present: (path) => path !== "/bin/busybox",
      answers: { "apt-get install -y busybox-static": [yes] },
    });
    const problem = await ensureDebianPackages(deps);
    expect(problem).toContain("apt-get succeeded but /bin/busybox is still missing");
    expect(problem).not.toContain("golang-go");
  });
});
