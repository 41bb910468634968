import { MaiGateError } from "../errors.js";
import type { ScratchSession } from "./engine.js";

/** Runs prelude statements in order; a failure names the statement's position. */
export async function runPrelude(session: ScratchSession, statements: string[]): Promise<void> {
  for (const [i, sql] of statements.entries()) {
    try {
      await session.query(sql);
    } catch (err) {
      throw new MaiGateError(
        "baseline",
        `scratch.prelude statement ${i + 1} failed: ${(err as Error).message ?? String(err)}`,
        {
          hint: "Fix scratch.prelude on main; an extension the scratch server lacks needs installing there (or scratch.admin_dsn for untrusted ones).",
          cause: err,
        },
      );
    }
  }
}
