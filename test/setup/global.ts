import { ensureTestServices } from "./services.js";

/**
 * Vitest globalSetup: before any test runs, start PostgreSQL on 127.0.0.1:5432 and install
 * Debian's chromium when they are missing (see services.ts). A failure stops the run with a
 * message that says what to do by hand.
 */
export default async function setup(): Promise<void> {
  await ensureTestServices();
}
