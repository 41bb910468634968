#!/usr/bin/env node
import { parseArgs } from "node:util";
import { fail, out, UsageError } from "./cli/output.js";
import { createLogger, type Logger } from "./log.js";
import { VERSION } from "./version.js";
import type { Workspace } from "./workspace.js";

const USAGE = `mai-gate ${VERSION}: migration slots, dry runs and a completion gate for parallel workers

Usage:
  mai-gate serve [--config PATH]               MCP server over stdio (run it in the worker's worktree)
  mai-gate serve --http PORT --tokens FILE [--host H]
                                                MCP over HTTP for the head and remote clients, status page at /
  mai-gate config [--json]                      print the effective configuration, or what is wrong with it
  mai-gate reserve NAME [--count N] [--json]    reserve the next migration version for NAME
  mai-gate leases [--all] [--worker W] [--json] list leases with their state and any conflicts
  mai-gate release LEASE_ID --reason TEXT       give a lease back (head: any lease)
  mai-gate suite [--profile P] [--json]         run the pre-push (or smoke) suite, streaming progress
  mai-gate gate [--branch B] [--json]           the completion gate for this HEAD (head: any branch)
  mai-gate completions [--worker W] [--json]    recorded completions
  mai-gate review [--worker W] [--json]         the head's review of every worker: branches, pushed or not, gates,
                                                completions against the tip, leases with ages, stale flags, next steps
  mai-gate revoke WORKER --reason TEXT          the head revokes every open lease of one worker
  mai-gate verify WORKER BRANCH SHA [--json]    the head's final word: a completion for exactly SHA was
                                                recorded and its gate is green now; exit 0/1/3
  mai-gate check [--format human|github|json] [--junit FILE] [--no-dry-run] [--branch B]
                                                CI: the gate's conditions that need no worker records,
                                                main's catalog and history, dry run; exit 0/1/3
  mai-gate hook pre-tool-use|stop               Claude Code hooks (JSON on stdin)
  mai-gate shim install [DIR]                   a PATH shim named like the reporter's program (default DIR
                                                .mai-gate/bin): its report runs only on a green gate;
                                                refused: exit 1, no real program past DIR: exit 127
  mai-gate status [--json]                      deploy verdict, asking every source now; exit 0 only when healthy, else 1
  mai-gate doctor [--json]                      check every configured source and say what to fix
  mai-gate doctor deploy [FILE] [--json]        will the next failed deploy keep the old container serving?
  mai-gate scratch setup [env:ADMIN_DSN] [--role R]
                                                create the unprivileged role dry runs log in as
  mai-gate dry-run [FILES...] [--json]          rehearse migrations on a clone of production's schema
                                                (default: the branch's new or changed migration files)

Options:
  --config PATH   read this file instead of mai-gate.yaml on the main branch
  -h, --help      this text
  --version       the version

Environment: MAI_WORKER, MAI_ROLE (worker|head|tester), MAI_GATE_STATE, MAI_GATE_MAIN, MAI_GATE_LOG.
Exit codes: 0 success, 1 the command failed, a dry run, suite or gate did not pass, or status is not healthy (the message says why), 2 bad usage.`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string" },
      json: { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      worker: { type: "string" },
      count: { type: "string" },
      reason: { type: "string" },
      role: { type: "string" },
      profile: { type: "string" },
      http: { type: "string" },
      host: { type: "string" },
      tokens: { type: "string" },
      branch: { type: "string" },
      format: { type: "string" },
      junit: { type: "string" },
      "no-dry-run": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", default: false },
    },
  });
}

/**
 * A reader that stops early (`mai-gate leases | head`) closes the pipe: stop quietly with the status
 * a shell gives a program killed by SIGPIPE, as other command-line tools do, not with a stack trace.
 * `serve` is left alone: its stdout is the MCP channel, and the server closes when its client goes.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(141);
    });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (command !== "serve") quietOnClosedPipe();
  if (values.version) {
    out(VERSION);
    return 0;
  }
  if (values.help || !command || command === "help") {
    out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const logger = createLogger();
  if (command === "serve") {
    if (values.http !== undefined) {
      const { serveHttp } = await import("./cli/serve-http.js");
      await serveHttp({
        port: values.http,
        host: values.host,
        tokens: values.tokens,
        configPath: values.config,
        logger,
      });
    } else await (await import("./cli/serve.js")).serveStdio({ configPath: values.config, logger });
    return -1;
  }
  if (command === "hook") return (await import("./cli/hook.js")).hookCommand(rest[0], logger);
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`mai-gate: unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  const { Workspace } = await import("./workspace.js");
  const ws = new Workspace({
    cwd: process.cwd(),
    env: process.env,
    logger,
    ...(values.config ? { configPath: values.config } : {}),
  });
  try {
    return await run({ ws, values, rest, logger });
  } finally {
    await ws.close();
  }
}

type Values = ReturnType<typeof parse>["values"];
interface Context {
  ws: Workspace;
  values: Values;
  rest: string[];
  logger: Logger;
}

/** Each command loads only its own modules: the CLI starts without the engines it does not use. */
const COMMANDS: Record<string, (c: Context) => Promise<number>> = {
  async config({ ws, values }) {
    await (await import("./cli/config.js")).printConfig(ws, { json: values.json });
    return 0;
  },
  async reserve({ ws, values, rest }) {
    const name = rest[0];
    if (!name) throw new UsageError("reserve needs a NAME", "mai-gate reserve add_user_email");
    const count = values.count === undefined ? undefined : Number(values.count);
    const { reserveCommand } = await import("./cli/slots.js");
    await reserveCommand(ws, name, { ...(count === undefined ? {} : { count }), json: values.json });
    return 0;
  },
  async leases({ ws, values }) {
    const { leasesCommand } = await import("./cli/slots.js");
    await leasesCommand(ws, {
      json: values.json,
      all: values.all,
      ...(values.worker ? { worker: values.worker } : {}),
    });
    return 0;
  },
  async release({ ws, values, rest }) {
    const id = rest[0];
    if (!id || !values.reason) throw new UsageError("release needs LEASE_ID and --reason TEXT");
    await (await import("./cli/slots.js")).releaseCommand(ws, id, values.reason, { json: values.json });
    return 0;
  },
  async suite({ ws, values }) {
    const { suiteCommand } = await import("./cli/suite.js");
    return suiteCommand(ws, { ...(values.profile ? { profile: values.profile } : {}), json: values.json });
  },
  async gate({ ws, values }) {
    const { gateCommand } = await import("./cli/gate.js");
    return gateCommand(ws, { ...(values.branch ? { branch: values.branch } : {}), json: values.json });
  },
  async completions({ ws, values }) {
    const { completionsCommand } = await import("./cli/gate.js");
    return completionsCommand(ws, { ...(values.worker ? { worker: values.worker } : {}), json: values.json });
  },
  async review({ ws, values }) {
    const { reviewCommand } = await import("./cli/review.js");
    return reviewCommand(ws, { ...(values.worker ? { worker: values.worker } : {}), json: values.json });
  },
  async revoke({ ws, values, rest }) {
    const { revokeCommand } = await import("./cli/review.js");
    return revokeCommand(ws, rest[0], values.reason, { json: values.json });
  },
  async shim({ ws, rest }) {
    return (await import("./cli/shim.js")).shimCommand(ws, rest);
  },
  async check({ ws, values }) {
    const { checkCommand } = await import("./cli/gate.js");
    return checkCommand(ws, {
      format: values.format ?? "human",
      ...(values.junit ? { junit: values.junit } : {}),
      ...(values.branch ? { branch: values.branch } : {}),
      dryRun: !values["no-dry-run"],
    });
  },
  async verify({ ws, values, rest }) {
    return (await import("./cli/gate.js")).verifyCommand(ws, rest, { json: values.json });
  },
  async status({ ws, values }) {
    return (await import("./cli/deploy.js")).statusCommand(ws, { json: values.json });
  },
  async doctor({ ws, values, rest }) {
    const deploy = await import("./cli/deploy.js");
    if (rest[0] === "deploy") return deploy.doctorDeployCommand(ws, rest[1], { json: values.json });
    return deploy.doctorCommand(ws, { json: values.json });
  },
  async scratch({ values, rest }) {
    const { scratchCommand } = await import("./cli/scratch.js");
    return scratchCommand(rest, { role: values.role, json: values.json }, process.env);
  },
  async "dry-run"({ ws, values, rest }) {
    return (await import("./cli/dryrun.js")).dryRunCommand(ws, rest, { json: values.json });
  },
};

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const usage =
      err instanceof UsageError ||
      (err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
    process.exitCode = fail(err, usage ? 2 : 1);
  },
);
