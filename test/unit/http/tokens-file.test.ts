import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.js";
import { TokenBook } from "../../../src/http/tokens.js";

async function loadError(path: string): Promise<ConfigError> {
  try {
    await TokenBook.load(path, {});
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("the head's tokens file is bounded", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mai-gate-tokens-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a regular file", async () => {
    const path = join(dir, "tokens.yaml");
    await writeFile(path, "tokens:\n  - { token: 0123456789abcdef0123, worker: head, role: head }\n");
    const book = await TokenBook.load(path, {});
    expect(book.identify("0123456789abcdef0123")).toEqual({ worker: "head", role: "head" });
  });

  it("a FIFO is refused at once, the file named", async () => {
    const fifo = join(dir, "tokens.fifo");
    execFileSync("mkfifo", [fifo]);
    const err = await loadError(fifo);
    expect(err.message).toContain(`cannot read the tokens file ${fifo}: it is not a regular file`);
  });

  it("a file over 256 KiB is refused, the file named", async () => {
    const path = join(dir, "big.yaml");
    await writeFile(
      path,
      `tokens:\n  - { token: 0123456789abcdef0123, worker: head, role: head }\n# ${"x".repeat(300 * 1024)}\n`,
    );
    const err = await loadError(path);
    expect(err.message).toContain(`cannot read the tokens file ${path}: it is`);
    expect(err.message).toContain("over the limit of 256 KiB");
  });

  it("an alias bomb is refused, the file named", async () => {
    const path = join(dir, "bomb.yaml");
    const levels = "abcdefgh".split("");
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < levels.length; i++)
      lines.push(
        `${levels[i]}: &${levels[i]} [${Array(9)
          .fill(`*${levels[i - 1]}`)
          .join(",")}]`,
      );
    await writeFile(path, `${lines.join("\n")}\ntokens: []\n`);
    const err = await loadError(path);
    expect(err.message).toContain(`the tokens file ${path} is not valid YAML`);
    expect(err.message).toMatch(/alias/i);
  });
});
