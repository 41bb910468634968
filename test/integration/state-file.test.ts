import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSandbox, type GitSandbox, numberedMigrations } from "../../src/sandbox/git-sandbox.js";
import { CLI } from "../helpers/stdio.js";

const DIR = "db/migrations";

/** A real small filesystem (tmpfs) to fill up or remount read-only; needs root with CAP_SYS_ADMIN. */
function tmpfs(sizeKb: number): string | null {
  const dir = mkdtempSync(join(tmpdir(), "mai-gate-fs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

function unmount(dir: string): void {
  execFileSync("umount", [dir], { stdio: "ignore" });
  rmSync(dir, { recursive: true, force: true });
}

const probe = tmpfs(64);
if (probe) unmount(probe);
const canMount = probe !== null;

describe("the state file: a full disk, a damaged file and a read-only mount are said as such, through the built CLI", () => {
  let sandbox: GitSandbox;
  let cwd: string;
  const mounts: string[] = [];
  const cli = (args: string[], state: string) =>
    execa(process.execPath, [CLI, ...args], {
      cwd,
      reject: false,
      env: { MAI_GATE_STATE: state, MAI_ROLE: "worker", MAI_WORKER: "ro" },
    });

  beforeAll(async () => {
    sandbox = await createGitSandbox({
      config: { migrations: { dir: DIR } },
      files: numberedMigrations(DIR, 3),
    });
    cwd = await sandbox.worktree("mai/ro/state");
  });
  afterAll(async () => {
    for (const dir of mounts) unmount(dir);
    await sandbox.cleanup();
  });

  it("a damaged state file names itself and says to move it aside, not to check permissions", async () => {
    const state = join(sandbox.dir, "damaged.db");
    writeFileSync(state, "this is not a database, it is a note someone saved here by mistake\n".repeat(200));
    const r = await cli(["leases", "--json"], state);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${state} is damaged or not a mai-gate state database`);
    expect(r.stderr).toContain(`mv ${state} ${state}.damaged`);
    expect(r.stderr).not.toMatch(/writable|permission/);
  });

  it.runIf(canMount)(
    "on a read-only mount, listings work and a reservation says the file is read-only",
    async () => {
      const fs = tmpfs(4096)!;
      mounts.push(fs);
      const state = join(fs, "state.db");
      const reserved = await cli(["reserve", "before_ro", "--json"], state);
      expect(reserved.exitCode, reserved.stderr).toBe(0);
      execFileSync("mount", ["-o", "remount,ro", fs]);

      const listed = await cli(["leases", "--json"], state);
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).leases.map((l: { name: string }) => l.name)).toEqual(["before_ro"]);

      const refused = await cli(["reserve", "after_ro"], state);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`${state} is read-only for this process`);
      expect(refused.stderr).not.toContain("Unexpected error");
    },
  );

  it.runIf(canMount)("on a full disk, a reservation says the disk is full and leaves no lease", async () => {
    const fs = tmpfs(1024)!;
    mounts.push(fs);
    const state = join(fs, "state.db");
    const first = await cli(["reserve", "fits", "--json"], state);
    expect(first.exitCode, first.stderr).toBe(0);
    // Fill what is left of the filesystem.
    await execa("dd", ["if=/dev/zero", `of=${join(fs, "filler")}`, "bs=4k"], { reject: false });

    // A few small writes can still land in pages SQLite already holds: keep asking, boundedly.
    let last = "no_room_0";
    let refused = await cli(["reserve", last, "--json"], state);
    for (let i = 1; i < 50 && refused.exitCode === 0; i++) {
      last = `no_room_${i}`;
      refused = await cli(["reserve", last, "--json"], state);
    }
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`the disk holding ${state} is full`);
    expect(refused.stderr).toContain("Free space on that disk");

    rmSync(join(fs, "filler"));
    const listed = await cli(["leases", "--json"], state);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const names: string[] = JSON.parse(listed.stdout).leases.map((l: { name: string }) => l.name);
    expect(names).toContain("fits");
    expect(names).not.toContain(last);
  });
});
