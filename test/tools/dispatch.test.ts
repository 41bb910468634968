import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { TOOL_NAMES } from "../../tools/index.js";
import { type Connected, connect, textOf } from "../helpers/mcp.js";

const DIR = "db/migrations";

describe("tools/list and tools/call: bounds in the listing, wrong arguments named", () => {
  let sandbox: GitSandbox;
  let session: Connected;
  const leaseCount = async () =>
    (await (await session.workspace.store(null)).listLeases({ includeEnded: true, limit: 10_000 })).length;

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR }, git: { fetch_interval_seconds: 0 } },
      files: numberedMigrations(DIR, 3),
    });
    session = await connect({ cwd: await sandbox.worktree("mai/dia/x"), env: {} });
  });
  afterAll(async () => {
    await session.close();
    await sandbox.cleanup();
  });

  it("the listing carries each integer's real bounds and refuses unknown fields", async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    const reserve = tools.find((t) => t.name === "reserve_migration_slot")!;
    const props = reserve.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(props.count).toMatchObject({ type: "integer", minimum: 1, maximum: 20 });
    expect(props.name).toMatchObject({ minLength: 1, maxLength: 100 });
    expect(reserve.inputSchema).toMatchObject({ additionalProperties: false, required: ["name"] });
    const suite = tools.find((t) => t.name === "run_pre_push_suite")!;
    expect((suite.inputSchema.properties as Record<string, unknown>).wait_seconds).toMatchObject({
      minimum: 0,
      maximum: 600,
    });
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.annotations, tool.name).toBeDefined();
    }
  });

  it("the same listing answers every time (computed once)", async () => {
    const first = await session.client.listTools();
    const second = await session.client.listTools();
    expect(second).toEqual(first);
  });

  it("an unknown field is named and nothing is reserved", async () => {
    const before = await leaseCount();
    const r = await session.call("reserve_migration_slot", { name: "add_x", cont: 2 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^\[bad_input\] reserve_migration_slot: unknown field "cont"/);
    expect(textOf(r)).toContain("Next step:");
    expect(await leaseCount()).toBe(before);
  });

  it("arguments: null is [bad_input] naming the arguments, not a protocol error", async () => {
    const r = await session.client.request(
      { method: "tools/call", params: { name: "list_slot_leases", arguments: null } },
      CallToolResultSchema,
    );
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^\[bad_input\] list_slot_leases: arguments: expected an object of named fields \(or none at all\), got null/,
    );
  });

  it("a field of the wrong type or out of bounds names the field and the bound", async () => {
    for (const [args, message] of [
      [{ name: "x", count: 21 }, "count: out of range: 1 to 20"],
      [{ name: "x", count: "2" }, "count: Invalid input: expected number, received string"],
      [{ name: 7 }, "name: Invalid input: expected string"],
    ] as const) {
      const r = await session.call("reserve_migration_slot", args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(`[bad_input] reserve_migration_slot: ${message}`);
    }
    const wait = await session.call("suite_status", { wait_seconds: 601 });
    expect(textOf(wait)).toContain("[bad_input] suite_status: wait_seconds: out of range: 0 to 600");
  });

  it("a tool that does not exist is an error answer", async () => {
    await expect(session.call("drop_production", {})).rejects.toThrow(/drop_production not found/);
  });
});
