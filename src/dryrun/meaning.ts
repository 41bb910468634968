/**
 * What a failure of main's own migration means, by baseline: only against production's schema does
 * it say the next deploy fails; a replay or a schema file lacks what production has.
 */
export function mainFailureMeaning(kind: "prod" | "file" | "replay"): string {
  switch (kind) {
    case "prod":
      return "main's own pending migration fails against production's schema: the next deploy will fail";
    case "file":
      return "main's migration fails on the schema file baseline (not production itself): fix the file or the migration";
    case "replay":
      return "main's migration fails on a replay of main's migrations from an empty database (not production itself, which may have tables, roles or extensions the replay lacks: add them to scratch.prelude)";
  }
}
