import { MaiGateError } from "../errors.js";

/** A deploy-settings source that cannot be checked: not YAML, or not a compose file. */
export class DeployConfigError extends MaiGateError {
  constructor(
    message: string,
    /** The next step, in one sentence. */
    hint: string,
    /** 1-based line of the problem, when there is one. */
    readonly line: number | null,
  ) {
    super("deploy_config", message, { hint });
  }
}
