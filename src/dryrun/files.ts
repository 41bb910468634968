import { realpath } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { ReadRefusal, readBoundedFile } from "../bounded-read.js";
import { InputError } from "../errors.js";
import { changedPaths, mergeBase } from "../git/changes.js";
import type { Git } from "../git/git.js";
import { sha256 } from "../hash.js";
import { parseFileName } from "../migrations/layout.js";
import type { RepoState } from "../repo/state.js";

/** A migration file from the worktree, checked and read. */
export interface InputFile {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  absolute: string;
  text: string;
  sha256: string;
  version: number | null;
  name: string | null;
}

export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const READ_TIMEOUT_MS = 5000;

/**
 * The branch's new migration files since its merge base with main, as they are on disk: committed,
 * staged, unstaged and untracked alike, since the dry run tests what is on disk. The same set the
 * gate judges on committed content (added, copied or renamed files the layout takes as forward
 * migrations, unreadable `.sql` names included); down files and other files are left out.
 */
export async function branchMigrationPaths(git: Git, state: RepoState): Promise<string[]> {
  const base = await mergeBase(git, state.main.sha);
  const paths = await changedPaths(git, base, [state.config.migrations.dir], "ACR");
  return paths.filter((p) => {
    const parsed = parseFileName(p.split("/").at(-1)!, state.config.migrations);
    return parsed !== null && !(parsed.ok && parsed.parsed.direction === "down");
  });
}

/** Reads files named by the caller, refusing anything outside the worktree, missing, binary or huge. */
export async function loadInputFiles(root: string, paths: string[], state: RepoState): Promise<InputFile[]> {
  const realRoot = await realpath(root);
  const out: InputFile[] = [];
  for (const given of paths) {
    const absolute = resolve(root, given);
    const { real, bytes } = await readBoundedFile(absolute, {
      maxBytes: MAX_FILE_BYTES,
      timeoutMs: READ_TIMEOUT_MS,
      within: realRoot,
    }).catch((err: unknown) => {
      throw refusal(err, given);
    });
    const path = relative(realRoot, real).split(sep).join("/");
    const text = decodeText(bytes, given);
    const base = path.split("/").at(-1)!;
    const parsed = parseFileName(base, state.config.migrations);
    if (parsed?.ok && parsed.parsed.direction === "down") {
      throw new InputError(
        `${given} is a down migration`,
        "Dry runs apply migrations forward; pass the .up.sql file.",
      );
    }
    out.push({
      path,
      absolute,
      text,
      sha256: sha256(text),
      version: parsed?.ok ? parsed.parsed.version : null,
      name: parsed?.ok ? parsed.parsed.name : null,
    });
  }
  return out.sort((a, b) => (a.version ?? Number.MAX_SAFE_INTEGER) - (b.version ?? Number.MAX_SAFE_INTEGER));
}

/** Why a named file is not rehearsed, in the dry run's words. */
function refusal(err: unknown, given: string): unknown {
  if (!(err instanceof ReadRefusal)) return err;
  switch (err.reason) {
    case "outside":
      return new InputError(
        `${given} is outside this worktree`,
        "Dry-run only migration files of your own worktree.",
      );
    case "missing":
      return new InputError(
        `${given} does not exist in this worktree`,
        "Pass paths relative to the repository root.",
      );
    case "not_regular":
      return new InputError(`${given} is not a regular file`);
    case "too_large":
      return new InputError(
        `${given} is ${((err.bytes ?? 0) / 1024 / 1024).toFixed(1)} MB; a migration may be at most ${MAX_FILE_BYTES / 1024 / 1024} MB`,
        "Split data loads out of schema migrations.",
      );
    default:
      return new InputError(`${given} cannot be read: ${err.message}`, "Check the file, then call again.");
  }
}

function decodeText(bytes: Buffer, given: string): string {
  if (bytes.includes(0)) throw new InputError(`${given} is a binary file, not SQL`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`${given} is not valid UTF-8 text`, "Save the migration as UTF-8.");
  }
}
