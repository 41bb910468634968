import { createRequire } from "node:module";
import type { z } from "zod";
import { formatBytes, ReadRefusal, readBoundedText } from "../bounded-read.js";
import { ConfigError } from "../errors.js";
import { type EnvRef, resolveEnvRefs } from "./env-refs.js";
import { type Config, configSchema } from "./schema.js";

/** The YAML parser loads with the first config read, not with every module that imports this one. */
let yamlModule: typeof import("yaml") | undefined;
const yaml = () => {
  yamlModule ??= createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yamlModule;
};

export const CONFIG_FILE = "mai-gate.yaml";

/** A config file bigger than this is refused: real ones are a few KiB. */
export const CONFIG_MAX_BYTES = 256 * 1024;
/** YAML aliases expanded per file at most: a "billion laughs" file is refused, not expanded. */
export const CONFIG_MAX_ALIASES = 100;
/** Reading a config file takes at most this long. */
const CONFIG_READ_TIMEOUT_MS = 5000;

export type ConfigSource = { kind: "file"; path: string } | { kind: "git"; ref: string; sha: string };

export interface LoadedConfig {
  config: Config;
  source: ConfigSource;
  envRefs: EnvRef[];
  /** Why this config cannot count as main's although it was read from git (set by the workspace). */
  distrust?: string;
}

/** Parses and validates the text of a `mai-gate.yaml`; every problem names its key. */
export function parseConfig(
  text: string,
  env: Record<string, string | undefined>,
  source: ConfigSource,
): LoadedConfig {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > CONFIG_MAX_BYTES) {
    throw new ConfigError(
      "",
      `${describeSource(source)} is ${bytes} bytes, over the limit of ${formatBytes(CONFIG_MAX_BYTES)}`,
      {
        hint: "A mai-gate.yaml needs a few KiB: point --config at the right file or trim it.",
      },
    );
  }
  const doc = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(
      "",
      `not valid YAML${line ? ` (line ${line})` : ""}: ${first.message.split("\n")[0]}`,
      {
        hint: `Fix ${describeSource(source)} and try again; \`mai-gate config\` shows what is read.`,
      },
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: CONFIG_MAX_ALIASES });
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (an alias bomb).
    throw new ConfigError(
      "",
      `${describeSource(source)} cannot be expanded: ${(err as Error).message} (more than ${CONFIG_MAX_ALIASES} alias expansions)`,
      {
        hint: `Write the values out instead of nesting YAML aliases (&anchor / *alias) in ${describeSource(source)}.`,
        cause: err,
      },
    );
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("", "must be a mapping of keys (see the config reference in the README)", {
      hint: `Fix ${describeSource(source)}.`,
    });
  }
  const { value, refs } = resolveEnvRefs(raw, env);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) throw configIssueError(parsed.error, refs, source);
  return { config: parsed.data, source, envRefs: refs };
}

function configIssueError(error: z.ZodError, refs: EnvRef[], source: ConfigSource): ConfigError {
  const problems = error.issues.map((issue) => {
    const key = issue.path.join(".");
    const unsetRef = refs.find((r) => r.key === key && !r.set);
    if (unsetRef) return { key, text: `env:${unsetRef.env} is not set` };
    if (issue.code === "unrecognized_keys") {
      return { key: issue.keys.map((k) => (key ? `${key}.${k}` : k)).join(", "), text: "unknown key" };
    }
    return { key, text: issue.message };
  });
  const hint = `Fix ${describeSource(source)}; the README's config reference lists every key.`;
  const [first] = problems;
  if (problems.length === 1 && first) return new ConfigError(first.key, first.text, { hint });
  return new ConfigError("", problems.map((p) => `${p.key || "(top level)"}: ${p.text}`).join("; "), {
    hint,
  });
}

export function describeSource(source: ConfigSource): string {
  return source.kind === "file"
    ? source.path
    : `${CONFIG_FILE} on ${source.ref} (${source.sha.slice(0, 10)})`;
}

export async function loadConfigFile(
  path: string,
  env: Record<string, string | undefined>,
): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readBoundedText(path, { maxBytes: CONFIG_MAX_BYTES, timeoutMs: CONFIG_READ_TIMEOUT_MS });
  } catch (err) {
    const why =
      err instanceof ReadRefusal ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new ConfigError("", `cannot read ${path}: ${why}`, {
      hint: "Pass an existing regular file with --config, or drop --config to read mai-gate.yaml from main.",
      cause: err,
    });
  }
  return parseConfig(text, env, { kind: "file", path });
}

export { MAIN_CANDIDATES } from "./main-ref.js";
