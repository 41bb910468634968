import { constants } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { InputError } from "../errors.js";
import { installShim, type ShimSpec, shimDecision } from "../gate/shim.js";
import type { Workspace } from "../workspace.js";
import { out, UsageError } from "./output.js";

/** Exit codes of `shim exec` itself; otherwise it exits with the real program's code. */
export const SHIM_EXIT = { refused: 1, missing: 127 } as const;

/** The built CLI the shim calls back (this file is dist/src/cli/shim.js). */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "..", "cli.js");

/** `mai-gate shim install [DIR]` and `mai-gate shim exec -- SPEC ARGS…` (what the shim runs). */
export async function shimCommand(ws: Workspace, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "install") return installCommand(ws, rest[0]);
  if (sub === "exec") return execCommand(ws, rest);
  throw new UsageError(`unknown shim command "${sub ?? ""}"`, "Use mai-gate shim install [DIR].");
}

async function installCommand(ws: Workspace, dir: string | undefined): Promise<number> {
  const shim = await installShim(ws, { dir, node: process.execPath, cli: CLI });
  const call = [shim.spec.program, ...shim.spec.prefix].join(" ");
  const lines = [
    `mai-gate: installed the shim ${shim.path}: \`${call} …\` now runs only when the completion gate is green.`,
  ];
  if (shim.excluded) lines.push(`git ignores it (${shim.excluded} in info/exclude).`);
  lines.push(
    shim.envFile
      ? `This Claude Code session's PATH starts with ${shim.spec.dir}.`
      : `Put ${shim.spec.dir} first on PATH for the agent's shell.`,
  );
  out(lines.join("\n"));
  if (!shim.real) {
    process.stderr.write(
      `mai-gate: warning: no real \`${shim.spec.program}\` on PATH past ${shim.spec.dir}; the shim will say so when called.\n`,
    );
  }
  return 0;
}

async function execCommand(ws: Workspace, args: string[]): Promise<number> {
  const [specText, ...argv] = args;
  const spec = parseSpec(specText);
  const decision = await shimDecision(ws, spec, argv);
  await ws.close();
  if (decision.action !== "run") {
    process.stderr.write(`${decision.message}\n`);
    return decision.action === "refuse" ? SHIM_EXIT.refused : SHIM_EXIT.missing;
  }
  const child = execa(decision.path, argv, { stdio: "inherit", reject: false });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, forward);
  const result = await child;
  if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
  if (result.exitCode === undefined) {
    process.stderr.write(`mai-gate shim: could not run ${decision.path}: ${result.shortMessage}\n`);
    return 126;
  }
  return result.exitCode;
}

function parseSpec(text: string | undefined): ShimSpec {
  try {
    const spec = JSON.parse(text ?? "") as Partial<ShimSpec>;
    if (typeof spec.dir === "string" && typeof spec.program === "string" && Array.isArray(spec.prefix)) {
      return { dir: spec.dir, program: spec.program, prefix: spec.prefix.map(String) };
    }
  } catch {
    // fall through to the error below
  }
  throw new InputError(
    "shim exec is run by a shim script, with the spec it was installed with",
    "Reinstall the shim: mai-gate shim install [DIR].",
  );
}
