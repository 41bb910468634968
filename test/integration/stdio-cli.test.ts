import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox } from "../../src/sandbox/git-sandbox.js";
import { TOOL_NAMES } from "../../tools/index.js";
import { CLI, spawnServer } from "../helpers/stdio.js";

const DIR = "db/migrations";

describe("the built CLI", () => {
  let sandbox: GitSandbox;

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR, layout: "golang-migrate" } },
      files: {
        [`${DIR}/9_a.up.sql`]: "SELECT 1;",
        [`${DIR}/99_b.up.sql`]: "SELECT 1;",
        [`${DIR}/124_c.up.sql`]: "SELECT 1;",
        [`${DIR}/124_c.down.sql`]: "SELECT 1;",
      },
    });
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  it("serves MCP over stdio: tools with schemas and annotations, the prompt, and a reservation", async () => {
    const cwd = await sandbox.worktree("mai/stdio/one");
    const server = await spawnServer(cwd);
    try {
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
      expect(TOOL_NAMES).toContain("verify_completion");
      for (const tool of tools) {
        expect(tool.outputSchema, tool.name).toBeDefined();
        expect(tool.annotations?.readOnlyHint, tool.name).toBeTypeOf("boolean");
        expect(tool.description!.length, tool.name).toBeLessThan(2048);
        const props = Object.values(
          (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>,
        );
        for (const p of props) expect(p.description, tool.name).toBeTruthy();
      }
      const { prompts } = await server.client.listPrompts();
      expect(prompts.map((p) => p.name).sort()).toEqual([
        "completion-checklist",
        "deploy-incident",
        "lease-review",
        "migration-workflow",
        "smoke-shift",
      ]);
      const prompt = await server.client.getPrompt({
        name: "migration-workflow",
        arguments: { change: "add a column" },
      });
      expect(JSON.stringify(prompt.messages)).toContain("reserve_migration_slot");

      const r = await server.call("reserve_migration_slot", { name: "add_thing" });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({
        worker: "stdio",
        leases: [{ version: 125, files: [`${DIR}/125_add_thing.up.sql`, `${DIR}/125_add_thing.down.sql`] }],
      });
      expect(server.stderr.join("")).not.toContain('"level":50');
    } finally {
      await server.close();
    }
  });

  it("reserve, leases and config from the command line; errors name the key and exit 1", async () => {
    const cwd = await sandbox.worktree("mai/cli/two");
    const reserved = await execa(process.execPath, [CLI, "reserve", "from_cli", "--json"], {
      cwd,
      reject: false,
    });
    expect(reserved.exitCode).toBe(0);
    expect(JSON.parse(reserved.stdout).leases[0].version).toBe(126);

    const leases = await execa(process.execPath, [CLI, "leases"], { cwd, env: { MAI_ROLE: "head" } });
    expect(leases.stdout).toMatch(/126\s+from_cli\s+active\s+cli/);

    const config = await execa(process.execPath, [CLI, "config"], { cwd });
    expect(config.stdout).toContain("layout: golang-migrate");
    expect(config.stdout).toContain("# read from mai-gate.yaml on origin/main");

    const bad = await execa(process.execPath, [CLI, "config", "--config", "/nonexistent.yaml"], {
      cwd,
      reject: false,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("cannot read /nonexistent.yaml");

    const usage = await execa(process.execPath, [CLI, "reserve", "--bogus"], { cwd, reject: false });
    expect(usage.exitCode).toBe(2);
    for (const args of [["reserve"], ["release", "L1"], ["hook", "nope"], ["check", "--format", "xml"]]) {
      const r = await execa(process.execPath, [CLI, ...args], { cwd, reject: false });
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^mai-gate: /);
    }
  });

  it("piped into a reader that stops early, it exits quietly (SIGPIPE's 141), with no stack trace", async () => {
    // `true` exits without reading long before node has started: the first write meets a closed pipe.
    const r = await execa(
      "bash",
      ["-c", `"$0" "$1" --help | true; echo "status=\${PIPESTATUS[0]}" >&2`, process.execPath, CLI],
      {
        reject: false,
      },
    );
    expect(r.stderr).toContain("status=141");
    expect(r.stderr).not.toContain("EPIPE");
    expect(r.stderr).not.toContain("at ");
  });
});
