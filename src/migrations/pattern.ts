import { createRequire } from "node:module";
import type { RE2JS } from "re2js";

// Loaded on the first custom pattern: the config schema imports this module on every start (the
// hook runs before each shell command a worker runs), and most layouts have no pattern.
const require = createRequire(import.meta.url);
let engine: typeof RE2JS | undefined;
const re2 = (): typeof RE2JS => {
  engine ??= (require("re2js") as { RE2JS: typeof RE2JS }).RE2JS;
  return engine;
};

/**
 * A custom layout's `pattern`, run by re2js (a port of RE2): matching takes time linear in the file
 * name, whatever the pattern, so `([a-z]+)+` cannot stall a reservation. RE2 has no backreferences or
 * lookaround; such a pattern is refused when the config is read. Named groups are written
 * `(?<name>…)` or `(?P<name>…)`.
 */
export type CompiledPattern = { ok: true; re: RE2JS } | { ok: false; reason: string };

const cache = new Map<string, CompiledPattern>();

export function compilePattern(pattern: string): CompiledPattern {
  let compiled = cache.get(pattern);
  if (!compiled) {
    try {
      compiled = { ok: true, re: re2().compile(pattern) };
    } catch (err) {
      compiled = {
        ok: false,
        reason: (err instanceof Error ? err.message : String(err)).replace(/^error /, ""),
      };
    }
    if (cache.size > 64) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** The names of the pattern's named groups. */
export function groupNames(re: RE2JS): Set<string> {
  return new Set(Object.keys(re.namedGroups()));
}

/**
 * The named groups of the first match of `pattern` in `text` (unmatched groups undefined), or null
 * when it does not match. A pattern RE2 cannot compile (the config refuses those) matches nothing.
 */
export function matchGroups(pattern: string, text: string): Record<string, string | undefined> | null {
  const compiled = compilePattern(pattern);
  if (!compiled.ok) return null;
  const m = compiled.re.exec(text) as (string[] & { groups?: Record<string, string | undefined> }) | null;
  return m ? { ...(m.groups ?? {}) } : null;
}
