import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";

/**
 * Throwaway git repositories for the demo, the benchmark and the tests: a bare `origin`, a `seed`
 * clone that writes history and pushes it, and a `host` clone where workers get worktrees —
 * the same shape as a team's server with many workers.
 */
export interface GitSandbox {
  dir: string;
  origin: string;
  seed: string;
  host: string;
  git(cwd: string, ...args: string[]): Promise<string>;
  /** Commits files to main in the seed clone and pushes. */
  commitToMain(files: Record<string, string>, message?: string): Promise<string>;
  /** Creates (or moves) a branch from main with these files, committed and pushed to origin. */
  pushBranch(branch: string, files: Record<string, string>, options?: { push?: boolean }): Promise<string>;
  /** Creates many branches from main in one `git fast-import`, then pushes them in one `git push`. */
  pushManyBranches(branches: { name: string; files: Record<string, string> }[]): Promise<void>;
  /** A worktree of the host clone on a new branch from origin/main. */
  worktree(branch: string): Promise<string>;
  /** Fetches origin into the host clone. */
  fetchHost(): Promise<void>;
  cleanup(): Promise<void>;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: "mai-gate sandbox",
  GIT_AUTHOR_EMAIL: "sandbox@mai-gate.invalid",
  GIT_COMMITTER_NAME: "mai-gate sandbox",
  GIT_COMMITTER_EMAIL: "sandbox@mai-gate.invalid",
};

export async function createGitSandbox(options: {
  config: Record<string, unknown> | string;
  files?: Record<string, string>;
  prefix?: string;
}): Promise<GitSandbox> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix ?? "mai-gate-sandbox-"));
  const origin = join(dir, "origin.git");
  const seed = join(dir, "seed");
  const host = join(dir, "host");
  const git = async (cwd: string, ...args: string[]) => {
    const r = await execa("git", args, { cwd, env: IDENTITY, reject: false });
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr}`);
    return r.stdout;
  };
  const write = async (root: string, files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
  };
  await git(dir, "init", "--quiet", "--bare", "--initial-branch=main", origin);
  await git(dir, "init", "--quiet", "--initial-branch=main", seed);
  await git(seed, "remote", "add", "origin", origin);
  const config = typeof options.config === "string" ? options.config : stringify(options.config);
  await write(seed, { "mai-gate.yaml": config, ...(options.files ?? {}) });
  await git(seed, "add", "-A");
  await git(seed, "commit", "--quiet", "-m", "initial");
  await git(seed, "push", "--quiet", "origin", "main");
  await git(dir, "clone", "--quiet", origin, host);

  let worktrees: Promise<unknown> = Promise.resolve();
  const commitOn = async (branch: string, from: string, files: Record<string, string>, message: string) => {
    await git(seed, "checkout", "--quiet", "-B", branch, from);
    await write(seed, files);
    await git(seed, "add", "-A");
    await git(seed, "commit", "--quiet", "--allow-empty", "-m", message);
    const sha = await git(seed, "rev-parse", "HEAD");
    await git(seed, "checkout", "--quiet", "main");
    return sha.trim();
  };

  return {
    dir,
    origin,
    seed,
    host,
    git,
    async commitToMain(files, message = "change main") {
      const sha = await commitOn("main", "main", files, message);
      await git(seed, "push", "--quiet", "origin", "main");
      return sha;
    },
    async pushBranch(branch, files, opts = {}) {
      const sha = await commitOn(branch, "main", files, `work on ${branch}`);
      if (opts.push !== false) await git(seed, "push", "--quiet", "--force", "origin", branch);
      return sha;
    },
    async pushManyBranches(branches) {
      const stream: string[] = [];
      const when = `${Math.floor(Date.now() / 1000)} +0000`;
      for (const b of branches) {
        const message = `work on ${b.name}`;
        stream.push(`commit refs/heads/${b.name}`, `committer Sandbox <sandbox@mai-gate.invalid> ${when}`);
        stream.push(`data ${Buffer.byteLength(message)}`, message, "from refs/heads/main^0");
        for (const [path, content] of Object.entries(b.files)) {
          stream.push(`M 100644 inline ${path}`, `data ${Buffer.byteLength(content)}`, content);
        }
        stream.push("");
      }
      const r = await execa("git", ["fast-import", "--quiet", "--force"], {
        cwd: seed,
        input: `${stream.join("\n")}\n`,
        reject: false,
      });
      if (r.exitCode !== 0) throw new Error(`git fast-import failed: ${r.stderr}`);
      await git(seed, "push", "--quiet", "--force", "--all", "origin");
    },
    worktree(branch) {
      // git serialises writes to one repository with lock files: add worktrees one at a time.
      const path = join(dir, "worktrees", branch.replaceAll("/", "__"));
      const add = async () => {
        await git(host, "fetch", "--quiet", "origin");
        await git(host, "worktree", "add", "--quiet", "--no-track", "-b", branch, path, "origin/main");
        return path;
      };
      const next = worktrees.then(add, add);
      worktrees = next.catch(() => undefined);
      return next;
    },
    async fetchHost() {
      await git(host, "fetch", "--quiet", "--prune", "origin");
    },
    async cleanup() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `count` numbered migration files, versions 1..count, as a files map for a sandbox. */
export function numberedMigrations(dir: string, count: number, width = 3): Record<string, string> {
  const files: Record<string, string> = {};
  for (let v = 1; v <= count; v++) {
    const name = `${String(v).padStart(width, "0")}_step_${v}.sql`;
    files[`${dir}/${name}`] = `CREATE TABLE t_${v} (id bigint PRIMARY KEY);\n`;
  }
  return files;
}
