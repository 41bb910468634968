import { MaiGateError } from "../errors.js";
import { sha256 } from "../hash.js";
import type { RepoState } from "../repo/state.js";
import { type Explain, type FailureReport, type PreparedFile, runCommitting } from "./apply.js";
import { type Baseline, type BaselineDeps, type MainMigration, resolveBaseline } from "./baseline.js";
import type { ScratchEngine, TemplateOutcome } from "./engine.js";
import { createdExtensions } from "./pglite-extensions.js";
import { runPrelude } from "./prelude.js";
import { analyzeSql, SqlSyntaxError } from "./sql.js";

/** A migration already on main fails against the baseline: the next deploy will fail the same way. */
export class MainMigrationError extends MaiGateError {
  constructor(
    readonly failure: FailureReport,
    readonly migration: MainMigration,
  ) {
    super(
      "baseline",
      `main's pending migration ${migration.path} fails against the baseline: ${failure.message}`,
      {
        hint: "This is main's problem, not your branch's: tell the head (against production's schema the next deploy fails here).",
      },
    );
  }
}

/**
 * Content keys from the baseline through each of main's pending migrations: key i is the baseline
 * plus migrations 1..i. A key changes exactly when what it stands for changes.
 */
export function chainKeys(baseline: Baseline): string[] {
  // The runner owns what it restores, and the prelude is part of the starting schema: both key it.
  const prelude = sha256(baseline.prelude.join("\n;\n"));
  const keys = [sha256(`baseline:${baseline.id}\nrunner:${baseline.runner}\nprelude:${prelude}`)];
  for (const m of baseline.pending) keys.push(sha256(`${keys.at(-1)}\n${m.path}\n${m.sha256}`));
  return keys;
}

/** The template key a dry run must have used to count now: the current baseline plus main's pending. */
export async function currentTemplateKey(ws: BaselineDeps, state: RepoState): Promise<string | null> {
  return chainKeys(await resolveBaseline(ws, state)).at(-1) ?? null;
}

/** Extensions the baseline's SQL creates, by chain key: each text is parsed once per process. */
const baselineExtensionsByKey = new Map<string, Promise<string[]>>();

/**
 * The extensions the prelude (with a dump's `CREATE EXTENSION` lines) and main's pending
 * migrations create. A text that does not parse creates none here: building it reports the error.
 */
export function baselineExtensions(baseline: Baseline): Promise<string[]> {
  const key = chainKeys(baseline).at(-1)!;
  let found = baselineExtensionsByKey.get(key);
  if (!found) {
    const texts = [...baseline.prelude, ...baseline.pending.map((m) => m.text)];
    found = Promise.all(
      texts.map((t) =>
        analyzeSql(t).then(
          (a) => createdExtensions(a.statements),
          () => [],
        ),
      ),
    ).then((lists) => [...new Set(lists.flat())]);
    if (baselineExtensionsByKey.size > 20) baselineExtensionsByKey.clear();
    baselineExtensionsByKey.set(key, found);
  }
  return found;
}

/**
 * Builds (or finds) the template for the baseline plus main's pending migrations. `extensions`: the
 * ones the rehearsal's SQL creates, for an engine that must load them first (PGlite).
 */
export async function ensureBaselineTemplate(
  engine: ScratchEngine,
  baseline: Baseline,
  explain: Explain,
  extensions: string[] = [],
): Promise<TemplateOutcome> {
  const keys = chainKeys(baseline);
  return engine.ensureTemplate({
    keys,
    extensions,
    // The PostgreSQL engine runs the prelude on its admin connection; PGlite has one session.
    prelude: engine.kind === "postgres" ? baseline.prelude : [],
    async buildBase(session) {
      if (engine.kind !== "postgres") await runPrelude(session, baseline.prelude);
      if (baseline.schemaSql === null) return;
      try {
        await session.query(baseline.schemaSql);
      } catch (err) {
        const e = err as { message?: string };
        throw new MaiGateError(
          "baseline",
          `restoring the baseline (${baseline.description}) failed: ${e.message ?? String(err)}`,
          {
            hint: "The scratch server may lack an extension or role production has; install it there, or use scratch.baseline: replay.",
            cause: err,
          },
        );
      }
    },
    async applyStep(session, step) {
      const migration = baseline.pending[step - 1]!;
      const prepared = await prepareMain(migration);
      const [run] = await runCommitting(session, [prepared], "per-file", explain);
      if (run?.failure) throw new MainMigrationError(run.failure, migration);
    },
  });
}

async function prepareMain(m: MainMigration): Promise<PreparedFile> {
  try {
    return { ...m, analysis: await analyzeSql(m.text) };
  } catch (err) {
    if (!(err instanceof SqlSyntaxError)) throw err;
    const failure: FailureReport = {
      path: m.path,
      line: err.line,
      column: err.column,
      statement: "",
      sqlstate: "42601",
      message: err.parserMessage,
      detail: null,
      hint: null,
      explanation: null,
    };
    throw new MainMigrationError(failure, m);
  }
}
