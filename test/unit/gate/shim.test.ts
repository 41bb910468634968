import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isShim, realProgram, SHIM_MARKER, shimScript } from "../../../src/gate/shim.js";

describe("finding the real program past the shims", () => {
  let dir: string;
  const bin = (name: string) => join(dir, name);
  const program = async (where: string, text: string, mode = 0o755) => {
    await mkdir(bin(where), { recursive: true });
    await writeFile(join(bin(where), "mai"), text);
    await chmod(join(bin(where), "mai"), mode);
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mai-gate-shim-unit-"));
    const spec = { dir: bin("shim"), program: "mai", prefix: ["report", "completed"] };
    await program("shim", shimScript(spec, "/usr/bin/node", "/opt/mai-gate/cli.js"));
    await program("other-shim", shimScript({ ...spec, dir: bin("other-shim") }, "/n", "/c"));
    await program("not-executable", "#!/bin/sh\n", 0o644);
    await program("real", "#!/bin/sh\necho real\n");
    await mkdir(join(bin("dir"), "mai"), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("skips shims, directories and files that are not executable", () => {
    const PATH = ["shim", "other-shim", "dir", "not-executable", "real"].map(bin).join(":");
    expect(realProgram("mai", { PATH })).toBe(join(bin("real"), "mai"));
    expect(realProgram("mai", { PATH: bin("shim") })).toBeNull();
    expect(realProgram("mai", {})).toBeNull();
  });

  it("skips the directories it is told to, and takes a path with a slash as it is", () => {
    expect(realProgram("mai", { PATH: [bin("real")].join(":") }, [bin("real")])).toBeNull();
    expect(realProgram(join(bin("real"), "mai"), {})).toBe(join(bin("real"), "mai"));
    expect(realProgram(join(bin("shim"), "mai"), {})).toBeNull();
  });

  it("writes a sh script carrying the marker that hands its arguments to shim exec", () => {
    const text = shimScript({ dir: "/w/it's", program: "mai", prefix: ["report"] }, "/usr/bin/node", "/c.js");
    expect(text.startsWith("#!/bin/sh\n")).toBe(true);
    expect(text).toContain(SHIM_MARKER);
    expect(text).toContain(`exec '/usr/bin/node' '/c.js' shim exec -- '{"dir":"/w/it'\\''s"`);
    expect(text.trimEnd().endsWith('"$@"')).toBe(true);
    expect(isShim(join(bin("shim"), "mai"))).toBe(true);
    expect(isShim(join(bin("real"), "mai"))).toBe(false);
    expect(isShim(join(bin("nowhere"), "mai"))).toBe(false);
  });
});
