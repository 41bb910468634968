import { setupScratchRole } from "../dryrun/scratch-setup.js";
import { json, out, UsageError } from "./output.js";

/**
 * `mai-gate scratch setup [ADMIN_DSN|env:NAME] [--role R]`: creates the unprivileged role dry runs
 * log in as and prints the DSN to use as scratch.dsn. The admin DSN is best given as `env:NAME`
 * (or MAI_GATE_SCRATCH_ADMIN_DSN): a password in argv is visible to every user of the host.
 */
export async function scratchCommand(
  args: string[],
  options: { role?: string | undefined; json: boolean },
  env: Record<string, string | undefined>,
): Promise<number> {
  const [sub, given] = args;
  if (sub !== "setup")
    throw new UsageError(
      `unknown scratch command "${sub ?? ""}"`,
      "Use mai-gate scratch setup env:ADMIN_DSN.",
    );
  const source = given ?? "env:MAI_GATE_SCRATCH_ADMIN_DSN";
  const adminDsn = source.startsWith("env:") ? env[source.slice(4)] : source;
  if (!adminDsn)
    throw new UsageError(
      `no admin DSN: ${source.startsWith("env:") ? `${source.slice(4)} is not set` : "give one"}`,
      "mai-gate scratch setup env:SCRATCH_ADMIN_DSN (a superuser on the scratch server)",
    );
  if (!source.startsWith("env:") && /:[^/@]+@/.test(adminDsn))
    process.stderr.write("mai-gate: warning: a password in argv is visible in ps; pass env:NAME next time\n");
  const r = await setupScratchRole(adminDsn, options.role);
  if (options.json) json(r);
  else {
    out(
      `${r.created ? "Created" : "Checked"} the scratch role ${r.role} (LOGIN CREATEDB; no superuser, no CREATEROLE, no server files or programs).`,
    );
    for (const note of r.notes) out(`Note: ${note}.`);
    out(`Use it for dry runs: scratch.dsn: env:SCRATCH_DSN in mai-gate.yaml, with\n  SCRATCH_DSN=${r.dsn}`);
  }
  return 0;
}
