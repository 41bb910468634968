import { posix } from "node:path";
import { GitError } from "../errors.js";
import { sha256 } from "../hash.js";
import { type ParsedName, parseFileName } from "../migrations/layout.js";
import type { RepoState } from "../slots/sources.js";
import type { Workspace } from "../workspace.js";

/** A migration file the branch added (relative to its merge base with main), with its content hash. */
export interface AddedMigration {
  path: string;
  parsed: ParsedName | null;
  /** sha256 of the file's text at the judged commit: what a dry run must have passed for. */
  sha256: string;
  oid: string;
}

/** A migration main already has (at the merge base) that the branch modified, renamed or deleted. */
export interface EditedMigration {
  path: string;
  change: "modified" | "renamed" | "deleted";
  to: string | null;
}

/**
 * The branch's migration changes between its merge base with main and `head`: added files (the
 * ones that need a lease and a dry run) and edits of files main already had (never allowed).
 */
export async function branchMigrations(
  ws: Workspace,
  state: RepoState,
  head: string,
): Promise<{ added: AddedMigration[]; edited: EditedMigration[]; base: string }> {
  const dir = state.config.migrations.dir;
  const base = await ws.git.run(["merge-base", head, state.main.sha]);
  if (!base.ok) throw new GitError(`no merge base between ${head.slice(0, 10)} and ${state.main.ref}`);
  const diff = await ws.git.run(["diff", "--name-status", "-z", "-M", base.stdout.trim(), head, "--", dir]);
  if (!diff.ok) throw new GitError(`git diff failed: ${diff.stderr.trim()}`);
  const fields = diff.stdout.split("\0").filter((f) => f !== "");
  const addedPaths: string[] = [];
  const edited: EditedMigration[] = [];
  for (let i = 0; i < fields.length; ) {
    const status = fields[i++]!;
    if (status.startsWith("R")) {
      const from = fields[i++]!;
      const to = fields[i++]!;
      edited.push({ path: from, change: "renamed", to });
      addedPaths.push(to);
    } else {
      const path = fields[i++]!;
      if (status === "A" || status.startsWith("C")) addedPaths.push(path);
      else if (status === "M") edited.push({ path, change: "modified", to: null });
      else if (status === "D") edited.push({ path, change: "deleted", to: null });
    }
  }
  const scan = (await ws.scanner(dir).scan([head])).get(head);
  const oids = new Map((scan?.entries ?? []).map((e) => [posix.join(dir, e.name), e.oid]));
  const forward = addedPaths.filter((p) => {
    const parsed = parseFileName(posix.basename(p), state.config.migrations);
    return !(parsed?.ok && parsed.parsed.direction === "down");
  });
  const texts = await ws.blobTexts(forward.map((p) => oids.get(p) ?? ""));
  const added = forward.map((path): AddedMigration => {
    const parsed = parseFileName(posix.basename(path), state.config.migrations);
    const oid = oids.get(path) ?? "";
    return { path, parsed: parsed?.ok ? parsed.parsed : null, sha256: sha256(texts.get(oid) ?? ""), oid };
  });
  const editedForward = edited.filter((e) => !/\.down\.sql$/.test(e.path));
  return { added, edited: editedForward, base: base.stdout.trim() };
}
