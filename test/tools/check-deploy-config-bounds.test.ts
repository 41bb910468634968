import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { type Connected, connect, structured, textOf } from "../helpers/mcp.js";
import { CLI } from "../helpers/stdio.js";

const EXAMPLE = resolve(import.meta.dirname, "../../examples/swarm-deploy.yaml");
const SECRET = `services:\n  secret_billing_service:\n    image: registry.example/billing:latest\n`;

describe("check_deploy_config reads only bounded, regular files inside the checkout", () => {
  let sandbox: GitSandbox;
  let outside: string;
  let c: Connected;
  let root: string;

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: "db/migrations" } },
      files: { "db/migrations/001_init.sql": "SELECT 1;\n" },
    });
    outside = await mkdtemp(join(tmpdir(), "mai-gate-outside-"));
    await writeFile(join(outside, "stack.yaml"), SECRET);
    c = await connect({ cwd: await sandbox.worktree("mai/dcb/bounds"), env: {} });
    root = (await c.workspace.repo()).root;
    await writeFile(join(root, "stack.yaml"), await readFile(EXAMPLE, "utf8"));
  });
  afterAll(async () => {
    await c.close();
    await sandbox.cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  const good = async () => {
    const r = structured<{ safe: boolean }>(await c.call("check_deploy_config", { file: "stack.yaml" }));
    expect(r.safe).toBe(true);
  };

  it("a FIFO is refused at once, and the server keeps answering", async () => {
    execFileSync("mkfifo", [join(root, "pipe.yaml")]);
    const result = await c.call("check_deploy_config", { file: "pipe.yaml" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("cannot read pipe.yaml: it is not a regular file");
    expect(textOf(result)).not.toContain("[internal]");
    await good();
  });

  it("mai-gate doctor deploy, a person's command, reads a file anywhere but still refuses a FIFO", async () => {
    const fifo = join(outside, "pipe.yaml");
    execFileSync("mkfifo", [fifo]);
    const refused = await execa(process.execPath, [CLI, "doctor", "deploy", fifo], {
      cwd: root,
      reject: false,
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain("it is not a regular file");
    const read = await execa(process.execPath, [CLI, "doctor", "deploy", join(outside, "stack.yaml")], {
      cwd: root,
      reject: false,
    });
    expect(read.stdout).toContain("secret_billing_service");
  });

  it("a directory is refused as not a file", async () => {
    await mkdir(join(root, "deploy"), { recursive: true });
    const result = await c.call("check_deploy_config", { file: "deploy" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("it is a directory");
  });

  it("a path outside the checkout is refused, absolute, by .. or by a symlink, its content never shown", async () => {
    await symlink(join(outside, "stack.yaml"), join(root, "linked.yaml"));
    for (const file of [
      join(outside, "stack.yaml"),
      relative(root, join(outside, "stack.yaml")),
      "linked.yaml",
      // Whether a file exists outside is not said either.
      relative(root, join(outside, "absent.yaml")),
    ]) {
      const result = await c.call("check_deploy_config", { file });
      expect(result.isError, file).toBe(true);
      const text = textOf(result);
      expect(text).toContain(`cannot read ${file}: it lies outside`);
      expect(text).not.toContain("secret_billing_service");
      expect(text).not.toContain("[internal]");
    }
    // A symlink that stays inside the checkout is read.
    await symlink("stack.yaml", join(root, "alias.yaml"));
    expect(
      structured<{ safe: boolean }>(await c.call("check_deploy_config", { file: "alias.yaml" })).safe,
    ).toBe(true);
  });

  it("a file over 1 MiB is refused with the limit said, in the checkout or on main", async () => {
    const big = `${await readFile(EXAMPLE, "utf8")}\n# ${"x".repeat(1024 * 1024)}\n`;
    await writeFile(join(root, "big.yaml"), big);
    const result = await c.call("check_deploy_config", { file: "big.yaml" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("over the limit of 1 MiB");

    await sandbox.commitToMain(
      {
        "deploy/big.yaml": big,
        "mai-gate.yaml": "migrations: { dir: db/migrations }\ndeploy: { compose: deploy/big.yaml }\n",
      },
      "a huge stack file",
    );
    await sandbox.fetchHost();
    const fromMain = await c.call("check_deploy_config", {});
    expect(fromMain.isError).toBe(true);
    expect(textOf(fromMain)).toMatch(
      /deploy\.compose names deploy\/big\.yaml, which is \d+ bytes on origin\/main, over the limit of 1 MiB/,
    );

    await sandbox.commitToMain(
      { "mai-gate.yaml": "migrations: { dir: db/migrations }\ndeploy: { compose: deploy }\n" },
      "a directory as the stack file",
    );
    await sandbox.fetchHost();
    const dir = await c.call("check_deploy_config", {});
    expect(textOf(dir)).toContain("deploy.compose names deploy, which is a tree on origin/main, not a file");
  });

  it("main's mai-gate.yaml over 256 KiB or an alias bomb is a config error naming it, not [internal]", async () => {
    await sandbox.commitToMain(
      { "mai-gate.yaml": `migrations: { dir: db/migrations }\n# ${"x".repeat(300 * 1024)}\n` },
      "a huge config",
    );
    await sandbox.fetchHost();
    const big = await c.call("check_deploy_config", {});
    expect(big.isError).toBe(true);
    expect(textOf(big)).toMatch(/mai-gate\.yaml on origin\/main is \d+ bytes, over the limit of 256 KiB/);

    const levels = "abcdefgh".split("");
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < levels.length; i++)
      bomb.push(
        `${levels[i]}: &${levels[i]} [${Array(9)
          .fill(`*${levels[i - 1]}`)
          .join(",")}]`,
      );
    await sandbox.commitToMain(
      { "mai-gate.yaml": `${bomb.join("\n")}\nmigrations: { dir: db/migrations }\n` },
      "an alias bomb",
    );
    await sandbox.fetchHost();
    const expanded = await c.call("check_deploy_config", {});
    expect(expanded.isError).toBe(true);
    expect(textOf(expanded)).toMatch(/mai-gate\.yaml on origin\/main \(\w+\) cannot be expanded/);
    expect(textOf(expanded)).toContain("more than 100 alias expansions");
    expect(textOf(expanded)).not.toMatch(/\[internal\]|Unexpected error/);
  });
});
