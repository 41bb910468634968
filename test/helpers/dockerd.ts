import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

/**
 * A private Docker Engine in swarm mode for the tests that need a real one: Debian's dockerd (the
 * test setup installs docker.io), with its own data root, exec root, pid file and unix socket in a
 * temp dir, never the machine's default socket. It runs in a network namespace of its own (`unshare
 * --net`, only loopback up) and a mount namespace of its own, so its bridges, overlay networks,
 * host ports and mounts stay inside, two of them never collide, and nothing it starts can reach
 * another address. `DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1` keeps Swarm from asking a registry for
 * images: they are made by `docker import` of a busybox-static root file system. The tests talk to
 * it only through its unix socket.
 */
export interface TestDockerd {
  dir: string;
  socket: string;
  /** `unix://<socket>`, for deploy.docker. */
  endpoint: string;
  /** The docker CLI against this engine; rejects with its output when it fails. */
  docker(...args: string[]): Promise<string>;
  /** An image of busybox's applets (httpd, wget, sh…) plus `files`, with its default command. */
  importImage(tag: string, cmd: string[], files?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

const START_MS = 30_000;
const STOP_MS = 20_000;

export async function startDockerd(): Promise<TestDockerd> {
  const dir = await mkdtemp(join(tmpdir(), "mai-gate-dockerd-"));
  const socket = join(dir, "docker.sock");
  const flags = [
    `--data-root=${join(dir, "data")}`,
    `--exec-root=${join(dir, "exec")}`,
    `--pidfile=${join(dir, "dockerd.pid")}`,
    `--host=unix://${socket}`,
    // Inside its own network namespace: no host firewall rules, no default bridge to manage.
    "--iptables=false",
    "--ip6tables=false",
    "--bridge=none",
    "--shutdown-timeout=2",
    "--log-level=warn",
  ];
  const script = `/bin/busybox ip link set lo up && exec dockerd ${flags.join(" ")}`;
  const log = join(dir, "dockerd.log");
  const out = await import("node:fs").then((fs) => fs.openSync(log, "a"));
  const child = spawn("unshare", ["--net", "--mount", "--propagation", "private", "--", "sh", "-c", script], {
    stdio: ["ignore", out, out],
    env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: "1" },
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const endpoint = `unix://${socket}`;
  const docker = async (...args: string[]) => {
    const r = await execa("docker", ["--host", endpoint, ...args], {
      reject: false,
      all: true,
      timeout: 60_000,
    });
    if (r.failed) throw new Error(`docker ${args.join(" ")} failed: ${r.all ?? r.shortMessage}`);
    return r.stdout;
  };
  const stop = async () => {
    // Leaving the swarm first stops its tasks at once; a daemon stopped with a swarm active waits ~10 s.
    await execa("docker", ["--host", endpoint, "swarm", "leave", "--force"], {
      reject: false,
      timeout: 15_000,
    });
    await stopDockerd(child.pid, exited, dir);
  };
  try {
    await waitForPing(socket, exited, log);
    await docker("swarm", "init", "--advertise-addr", "127.0.0.1");
  } catch (err) {
    await stop();
    throw err;
  }
  const rootfs = await busyboxRootfs(dir);
  return {
    dir,
    socket,
    endpoint,
    docker,
    async importImage(tag, cmd, files = {}) {
      const tree = join(dir, `image-${tag.replace(/\W/g, "_")}`);
      await execa("cp", ["-a", rootfs, tree]);
      await writeTree(tree, files);
      const tar = `${tree}.tar`;
      await execa("tar", ["-cf", tar, "-C", tree, "."]);
      await docker("import", "--change", `CMD ${JSON.stringify(cmd)}`, tar, tag);
    },
    stop,
  };
}

/** `GET /_ping` on the socket until it answers OK, or dockerd exits, or START_MS pass. */
async function waitForPing(socket: string, exited: Promise<number | null>, log: string): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const until = Date.now() + START_MS;
  while (Date.now() < until && !gone) {
    if (await ping(socket)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = (await readFile(log, "utf8").catch(() => "")).trim().split("\n").slice(-8).join("\n  ");
  throw new Error(
    `the private dockerd did not start${gone ? " (it exited)" : ` within ${START_MS / 1000} s`}; its log ends:\n  ${tail}\n` +
      "It needs Debian's docker.io (the test setup installs it), root, and unshare (util-linux) for its own network and mount namespaces.",
  );
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/**
 * SIGTERM to dockerd (it stops its containers and its containerd), SIGKILL after STOP_MS; then any
 * containerd shim still serving this engine's exec root (found by that path in its command line,
 * ended by its pid); then the temp dir. The namespaces go with their last process.
 */
async function stopDockerd(pid: number | undefined, exited: Promise<number | null>, dir: string) {
  if (pid !== undefined) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    const timer = new Promise<"late">((r) => setTimeout(() => r("late"), STOP_MS));
    if ((await Promise.race([exited, timer])) === "late") {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
      await exited;
    }
  }
  for (const left of await processesWith(dir)) {
    try {
      process.kill(left, "SIGKILL");
    } catch {}
  }
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

async function processesWith(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

/** A root file system of busybox-static: /bin/busybox and a link per applet. */
async function busyboxRootfs(dir: string): Promise<string> {
  const root = join(dir, "rootfs");
  await mkdir(join(root, "bin"), { recursive: true });
  await mkdir(join(root, "tmp"), { recursive: true });
  await execa("cp", ["/bin/busybox", join(root, "bin", "busybox")]);
  const { stdout } = await execa("/bin/busybox", ["--list"]);
  for (const applet of stdout.split("\n").filter((a) => a && a !== "busybox"))
    await symlink("busybox", join(root, "bin", applet));
  return root;
}

async function writeTree(root: string, files: Record<string, string>) {
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
}
