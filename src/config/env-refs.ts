/**
 * `env:NAME` values: the file never holds secrets, it names the variable that does. Resolution walks
 * the parsed YAML once, replaces each reference with the variable's value (or removes the key when the
 * variable is unset) and remembers where each came from, so printing the config never shows a secret.
 */
export interface EnvRef {
  /** Dotted key in the config, e.g. `prod.dsn`. */
  key: string;
  /** The environment variable it names. */
  env: string;
  set: boolean;
}

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

export function resolveEnvRefs(
  value: unknown,
  env: Record<string, string | undefined>,
  refs: EnvRef[] = [],
  path: string[] = [],
): { value: unknown; refs: EnvRef[] } {
  if (typeof value === "string") {
    const match = ENV_REF.exec(value);
    if (!match) return { value, refs };
    const name = match[1]!;
    const resolved = env[name];
    const set = resolved !== undefined && resolved !== "";
    refs.push({ key: path.join("."), env: name, set });
    return { value: set ? resolved : undefined, refs };
  }
  if (Array.isArray(value)) {
    const out = value.map((item, i) => resolveEnvRefs(item, env, refs, [...path, String(i)]).value);
    return { value: out, refs };
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = resolveEnvRefs(v, env, refs, [...path, k]).value;
      if (resolved !== undefined) out[k] = resolved;
    }
    return { value: out, refs };
  }
  return { value, refs };
}

/** A copy of `config` with every value that came from the environment shown as `env:NAME (set)`. */
export function redactEnvRefs(config: unknown, refs: EnvRef[]): unknown {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const ref of refs) {
    const parts = ref.key.split(".");
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) {
      const next: unknown = node?.[part];
      if (!next || typeof next !== "object") {
        node = undefined;
        break;
      }
      node = next as Record<string, unknown>;
    }
    const last = parts.at(-1)!;
    if (node) node[last] = `env:${ref.env} (${ref.set ? "set" : "not set"})`;
  }
  return copy;
}
