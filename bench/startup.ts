import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { createGitSandbox, numberedMigrations } from "../src/sandbox/git-sandbox.js";
import { percentile, printTable, timeEach } from "./stats.js";

const CLI = resolve(import.meta.dirname, "../src/cli.js");
const FILESYSTEM_SERVER = createRequire(import.meta.url).resolve(
  "@modelcontextprotocol/server-filesystem/dist/index.js",
);
const RUNS = 25;

/**
 * Start-up, measured together in one run: the PreToolUse hook (it runs before every shell command a
 * worker runs) against `node -e 0`, and `serve` (spawn + initialize, tools/list, idle RSS) against
 * the official filesystem MCP server.
 */
export async function benchStartup(): Promise<void> {
  const sandbox = await createGitSandbox({
    config: { migrations: { dir: "db/migrations" } },
    files: numberedMigrations("db/migrations", 50),
    prefix: "mai-gate-bench-",
  });
  try {
    const cwd = await sandbox.worktree("mai/bench/startup");
    const node = await timeEach(RUNS, () => execa(process.execPath, ["-e", "0"]));
    const hook = (command: string) =>
      timeEach(RUNS, () =>
        execa(process.execPath, [CLI, "hook", "pre-tool-use"], {
          cwd,
          input: JSON.stringify({ tool_name: "Bash", tool_input: { command }, cwd }),
        }),
      );
    await hook("ls -la"); // the first run fills the hook's cache of main's reporter
    const lsHook = await hook("ls -la");
    const gitHook = await hook("git status && go test ./...");
    const nodeP50 = percentile(node, 50);
    printTable(
      "startup: the PreToolUse hook on a command that does not report (ms)",
      ["command", "n", "p50", "p99", "ratio p50 vs node -e 0"],
      [
        ["node -e 0 (baseline)", RUNS, nodeP50, percentile(node, 99), 1],
        [
          "hook pre-tool-use: ls -la",
          RUNS,
          percentile(lsHook, 50),
          percentile(lsHook, 99),
          percentile(lsHook, 50) / nodeP50,
        ],
        [
          "hook pre-tool-use: git status && go test",
          RUNS,
          percentile(gitHook, 50),
          percentile(gitHook, 99),
          percentile(gitHook, 50) / nodeP50,
        ],
      ],
    );
    console.log(`goal: hook p50 <= 1.5x node -e 0 -> ${(percentile(lsHook, 50) / nodeP50).toFixed(2)}x`);

    // The two servers start in turns, so a busy moment of the machine falls on both alike.
    const [fs, mai] = (await measureServers(
      [
        [process.execPath, [FILESYSTEM_SERVER, cwd]],
        [process.execPath, [CLI, "serve"]],
      ],
      cwd,
    )) as [ServerFigures, ServerFigures];
    printTable(
      "startup: an MCP server over stdio (ms; RSS in MB)",
      [
        "server",
        "spawn+initialize p50",
        "+ first tools/list p50",
        "tools/list p50",
        "idle RSS",
        "ratio spawn p50 vs filesystem",
        "ratio first list p50",
      ],
      [
        ["official filesystem server (baseline)", fs.spawn, fs.ready, fs.list, fs.rssMb, 1, 1],
        [
          "mai-gate serve",
          mai.spawn,
          mai.ready,
          mai.list,
          mai.rssMb,
          mai.spawn / fs.spawn,
          mai.ready / fs.ready,
        ],
      ],
    );
    console.log(
      `goals: spawn+initialize <= filesystem (${(mai.spawn / fs.spawn).toFixed(2)}x), tools/list <= 5 ms (${mai.list.toFixed(2)}), idle RSS <= 90 MB (${mai.rssMb.toFixed(0)})`,
    );
  } finally {
    await sandbox.cleanup();
  }
}

interface ServerFigures {
  spawn: number;
  /** spawn, initialize and the first tools/list: what a client waits for before it can call a tool. */
  ready: number;
  list: number;
  rssMb: number;
}

/**
 * Spawn + initialize p50 over fresh processes (the servers taking turns), then tools/list p50 and
 * idle RSS on each one's last process. Raw JSON-RPC lines over the pipes, so a client library's own
 * work (parsing, compiling output schemas) is not counted for either server.
 */
async function measureServers(servers: [string, string[]][], cwd: string): Promise<ServerFigures[]> {
  const spawns: number[][] = servers.map(() => []);
  const readies: number[][] = servers.map(() => []);
  const last: (ReturnType<typeof startRaw> | undefined)[] = servers.map(() => undefined);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, [command, args]] of servers.entries()) {
      await last[k]?.close();
      const server = startRaw(command, args, cwd);
      const t = performance.now();
      await server.request("initialize", INITIALIZE);
      spawns[k]!.push(performance.now() - t);
      server.notify("notifications/initialized");
      await server.request("tools/list", {});
      readies[k]!.push(performance.now() - t);
      last[k] = server;
    }
  }
  const figures: ServerFigures[] = [];
  for (const [k, server] of last.entries()) {
    const list = await timeEach(50, () => server!.request("tools/list", {}));
    await new Promise((r) => setTimeout(r, 300));
    const status = await readFile(`/proc/${server!.pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    await server!.close();
    figures.push({
      spawn: percentile(spawns[k]!, 50),
      ready: percentile(readies[k]!, 50),
      list: percentile(list, 50),
      rssMb: rssKb / 1024,
    });
  }
  return figures;
}

const INITIALIZE = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "bench", version: "0" },
};

/** A server process spoken to in newline-delimited JSON-RPC, one request at a time. */
function startRaw(command: string, args: string[], cwd: string) {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", MAI_GATE_LOG: "error" },
    stdio: ["pipe", "pipe", "ignore"],
  });
  const lines = createInterface({ input: child.stdout });
  let waiting: ((line: string) => void) | null = null;
  lines.on("line", (line) => waiting?.(line));
  let id = 0;
  return {
    pid: child.pid,
    request(method: string, params: unknown): Promise<unknown> {
      const mine = ++id;
      return new Promise((resolveAnswer) => {
        waiting = (line) => {
          if ((JSON.parse(line) as { id?: number }).id === mine) resolveAnswer(line);
        };
        child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: mine, method, params })}\n`);
      });
    },
    notify(method: string): void {
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`);
    },
    close(): Promise<void> {
      return new Promise((done) => {
        child.once("exit", () => done());
        child.stdin.end();
        setTimeout(() => child.kill("SIGKILL"), 2_000).unref();
      });
    },
  };
}
