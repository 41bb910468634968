/** The states a lease can be in (computed now against git and production; see states.ts). */
export const LEASE_STATES = [
  "active",
  "merged",
  "applied",
  "released",
  "revoked",
  "expired",
  "conflicted",
] as const;
export type LeaseState = (typeof LEASE_STATES)[number];
