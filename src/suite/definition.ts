import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import picomatch from "picomatch";
import { describeSource, type LoadedConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { InputError } from "../errors.js";
import { sha256 } from "../hash.js";

import { PROFILES, type Profile } from "./limits.js";

export { PROFILES, type Profile } from "./limits.js";

export interface SuiteStep {
  name: string;
  run: string | string[];
  /** Relative to the worktree root. */
  cwd: string;
  timeoutMs: number;
  env: Record<string, string>;
  /** Globs on changed paths; null = always run. */
  when: string[] | null;
  parallel: boolean;
  /** Worktree paths git does not hold, linked into the clean checkout for this step. */
  share: string[];
}

export interface SuiteDefinition {
  profile: Profile;
  steps: SuiteStep[];
  /** Hash of the steps: a changed suite is a different key for the results. */
  hash: string;
}

export const DEFAULT_STEP_TIMEOUT_S = 600;

/** The profile's steps from the config on main, or an error that says what to configure. */
export function suiteDefinition(loaded: LoadedConfig, profile: string): SuiteDefinition {
  if (!(PROFILES as readonly string[]).includes(profile)) {
    throw new InputError(`unknown suite profile "${profile}"`, `Use one of ${PROFILES.join(", ")}.`);
  }
  const raw: NonNullable<Config["suite"]>["pre_push"] = loaded.config.suite?.[profile as Profile];
  if (!raw || raw.length === 0) {
    throw new InputError(
      `the ${profile} suite is empty: mai-gate.yaml has no suite.${profile} steps (${describeSource(loaded.source)})`,
      `Ask the head to add suite.${profile} steps to mai-gate.yaml on main (see the README's config reference).`,
    );
  }
  const names = new Set<string>();
  const steps = raw.map((s): SuiteStep => {
    if (names.has(s.name)) throw new InputError(`suite.${profile} has two steps named "${s.name}"`);
    names.add(s.name);
    return {
      name: s.name,
      run: s.run,
      cwd: s.cwd ?? ".",
      timeoutMs: (s.timeout ?? DEFAULT_STEP_TIMEOUT_S) * 1000,
      env: s.env ?? {},
      when: s.when ?? null,
      parallel: s.parallel ?? false,
      share: s.share ?? [],
    };
  });
  // `share` is part of the hash only when used, so existing records keep their key.
  const hashed = steps.map(({ share, ...rest }) => (share.length > 0 ? { ...rest, share } : rest));
  return { profile: profile as Profile, steps, hash: sha256(JSON.stringify(hashed)) };
}

/** The step's working directory, refused when it leaves the worktree or does not exist. */
export async function stepCwd(root: string, step: SuiteStep): Promise<string> {
  const target = resolve(root, step.cwd);
  const real = await realpath(target).catch(() => null);
  const rel = real === null ? null : relative(await realpath(root), real);
  if (rel === null || rel.startsWith("..") || isAbsolute(rel)) {
    const why = real === null ? "does not exist" : "is outside the worktree";
    throw new InputError(
      `step "${step.name}": cwd "${step.cwd}" ${why}`,
      "Use a directory inside the repository.",
    );
  }
  if (!(await stat(real!)).isDirectory())
    throw new InputError(`step "${step.name}": cwd "${step.cwd}" is not a directory`);
  return real!;
}

/** Why a step is skipped for these changed paths, or null when it runs. */
export function skipReason(step: SuiteStep, changed: string[] | null): string | null {
  if (step.when === null || changed === null) return null;
  const match = picomatch(step.when, { dot: true });
  return changed.some((p) => match(p))
    ? null
    : `no change since the merge base matches ${step.when.join(", ")}`;
}

/** Consecutive steps marked `parallel` run together; every other step runs alone, in order. */
export function stepGroups(steps: SuiteStep[]): SuiteStep[][] {
  const groups: SuiteStep[][] = [];
  for (const step of steps) {
    const last = groups.at(-1);
    if (step.parallel && last?.[0]?.parallel) last.push(step);
    else groups.push([step]);
  }
  return groups;
}
