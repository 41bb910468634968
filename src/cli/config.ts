import { stringify } from "yaml";
import { redactEnvRefs } from "../config/env-refs.js";
import { describeSource } from "../config/load.js";
import type { Deps } from "../deps.js";
import { json, out } from "./output.js";

/** The parts of `Deps` this module uses. */
type Uses = Pick<Deps, "stateLocation" | "view">;

/** `mai-gate config`: the effective configuration (defaults filled in, secrets shown by name only). */
export async function printConfig(ws: Uses, options: { json: boolean }): Promise<void> {
  const view = await ws.view();
  const { loaded } = view;
  const shown = redactEnvRefs(loaded.config, loaded.envRefs);
  const state = await ws.stateLocation(loaded);
  if (options.json) {
    json({ source: loaded.source, state, identity: view.identity, config: shown });
    return;
  }
  const who = view.identity.worker ? `${view.identity.worker} (from ${view.identity.source})` : "unknown";
  out(
    [
      `# read from ${describeSource(loaded.source)}`,
      `# state: ${state}`,
      `# caller: role ${view.identity.role}, worker ${who}`,
      stringify(shown).trimEnd(),
    ].join("\n"),
  );
}
