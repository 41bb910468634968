import { suiteOutput, suiteText } from "../../tools/suite-output.js";
import type { Progress } from "../suite/jobs.js";
import { MAX_WAIT_S, runSuite, type SuiteDeps, suiteStatus } from "../suite/service.js";
import { json, out } from "./output.js";

/**
 * `mai-gate suite [--profile P]`: runs the suite and streams step progress — one updating line on a
 * terminal, plain lines otherwise. Ctrl-C cancels the run and kills its processes. Exit 1 unless it passed.
 */
export async function suiteCommand(
  ws: SuiteDeps,
  options: { profile?: string; json: boolean },
): Promise<number> {
  const tty = process.stderr.isTTY === true && !options.json;
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  const started = Date.now();
  const show = (p: Progress) => {
    const line = `[${p.done}/${p.total}] ${p.message} (${((Date.now() - started) / 1000).toFixed(0)} s)`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else process.stderr.write(`${line}\n`);
  };
  try {
    let answer = await runSuite(ws, {
      profile: options.profile,
      waitSeconds: MAX_WAIT_S,
      signal: controller.signal,
      onProgress: show,
    });
    while (!answer.finished && !controller.signal.aborted) {
      answer = await suiteStatus(ws, {
        jobId: answer.run.id,
        waitSeconds: MAX_WAIT_S,
        signal: controller.signal,
      });
    }
    if (tty) process.stderr.write("\r\x1b[2K");
    if (options.json) json(suiteOutput(answer));
    else out(suiteText(answer));
    return answer.run.state === "passed" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
