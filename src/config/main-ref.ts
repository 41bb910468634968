/** Refs tried, in order, when the main branch is not known yet (the config names it). */
export const MAIN_CANDIDATES = ["origin/main", "main", "origin/master", "master"];
