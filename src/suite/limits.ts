/** The suite's profiles and the bounds of its waits: what the tools' schemas state. */
export const PROFILES = ["pre_push", "smoke"] as const;
export type Profile = (typeof PROFILES)[number];

/** How long run_pre_push_suite waits for the result by default, and at most, before answering a job id. */
export const DEFAULT_WAIT_S = 90;
export const MAX_WAIT_S = 600;
