import { InputError } from "../errors.js";

export const MAX_NAME_LENGTH = 100;
export const MAX_COUNT = 20;
const NAME = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;

/** A migration name as it will appear in the file name: letters, digits, single `_` or `-` between. */
export function validateMigrationName(raw: string): string {
  const name = raw.trim();
  const example = suggestName(raw);
  const hint = `Use letters, digits and single underscores, e.g. ${example ? `"${example}"` : `"add_user_email"`}.`;
  if (name.length === 0) throw new InputError("name is empty", hint);
  if (name.length > MAX_NAME_LENGTH) {
    throw new InputError(
      `name is ${name.length} characters; at most ${MAX_NAME_LENGTH}`,
      "Use a short name for what the migration does.",
    );
  }
  if (name.includes("/") || name.includes("\\") || name.includes("..")) {
    throw new InputError(
      `name "${name}" contains a path separator or ".."`,
      `${hint} mai-gate answers the path to create.`,
    );
  }
  if (!NAME.test(name)) throw new InputError(`name "${name}" is not a valid migration name`, hint);
  return name;
}

function suggestName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 60);
}

export function validateCount(count: number | undefined): number {
  if (count === undefined) return 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
    throw new InputError(
      `count ${count} is out of range: 1 to ${MAX_COUNT}`,
      "Reserve one version per migration file; split larger batches into several calls.",
    );
  }
  return count;
}
