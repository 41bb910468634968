/** A deploy-settings source that cannot be checked: not YAML, or not a compose file. */
export class DeployConfigError extends Error {
  constructor(
    message: string,
    /** The next step, in one sentence. */
    readonly hint: string,
    /** 1-based line of the problem, when there is one. */
    readonly line: number | null,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
