/** The rules of the deploy-settings linter, one per way a failed deploy can take the site down. */
export type DeployRule =
  | "no_healthcheck"
  | "healthcheck_not_readiness"
  | "failure_action"
  | "update_order"
  | "monitor_too_short"
  | "no_rollback_config"
  | "migrations_in_entrypoint"
  | "restart_unbounded"
  | "start_first_host_port";

export interface DeployFinding {
  service: string;
  rule: DeployRule;
  /** The path as given, or "dokploy:<applicationId>". */
  file: string | null;
  /** 1-based line of the key that is wrong, or of the service when the key is absent; null for Dokploy. */
  line: number | null;
  /** The key is absent and the engine default was applied (`detail` says which). */
  defaultAssumed: boolean;
  /** What the setting is, e.g. "update_config.failure_action is absent: Swarm's default is pause". */
  detail: string;
  /** One sentence: what happens on the next failed deploy. */
  consequence: string;
  /** The exact text to write: YAML indented as it goes under the service, or Dokploy's JSON. */
  fix: string;
}

/** A setting whose deployed value differs from the stack file's. */
export interface DeployDrift {
  /** The setting, named as in the stack file, e.g. "update_config.failure_action". */
  setting: string;
  file: string;
  live: string;
}

export interface DeployCheck {
  /** The file path, or "dokploy:<applicationId>". */
  source: string;
  /** The services checked (extension fields `x-…` are not services). */
  services: string[];
  findings: DeployFinding[];
  /**
   * For the live service: what differs from the stack file (`file`: which file and service it was
   * compared with); null when there was nothing to compare with.
   */
  drift?: { file: string; service: string; differences: DeployDrift[] } | null;
  /** "a failed deploy keeps the old container serving" when there is no finding, else one sentence. */
  verdict: string;
}
