import { createHash, timingSafeEqual } from "node:crypto";
import { parse } from "yaml";
import { z } from "zod";
import { ReadRefusal, readBoundedText } from "../bounded-read.js";
import { ConfigError } from "../errors.js";

/** A tokens file bigger than this is refused: real ones are a few KiB. */
export const TOKENS_MAX_BYTES = 256 * 1024;

export const HTTP_ROLES = ["worker", "head", "tester", "viewer"] as const;
export type HttpRole = (typeof HTTP_ROLES)[number];

/** Who a bearer token speaks for. `viewer` may only read the status page. */
export interface TokenIdentity {
  worker: string;
  role: HttpRole;
}

const fileSchema = z
  .object({
    tokens: z
      .array(
        z
          .object({
            token: z.string().min(16, "tokens must be at least 16 characters"),
            worker: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "not a valid worker id"),
            role: z.enum(HTTP_ROLES),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

interface Entry extends TokenIdentity {
  digest: Buffer;
}

const digest = (token: string) => createHash("sha256").update(token).digest();

/**
 * The tokens file (YAML or JSON): `tokens: [{ token, worker, role }]`; a token may be `env:NAME`.
 * Tokens are kept only as digests and compared in constant time; they are never logged.
 */
export class TokenBook {
  private constructor(private readonly entries: Entry[]) {}

  static async load(path: string, env: Record<string, string | undefined>): Promise<TokenBook> {
    let text: string;
    try {
      text = await readBoundedText(path, { maxBytes: TOKENS_MAX_BYTES, timeoutMs: 5000 });
    } catch (err) {
      const why = err instanceof ReadRefusal ? err.message : (err as Error).message;
      throw new ConfigError("", `cannot read the tokens file ${path}: ${why}`, {
        hint: "Pass --tokens FILE, a regular file with `tokens: [{ token, worker, role }]`.",
        cause: err,
      });
    }
    let raw: unknown;
    try {
      raw = parse(text, { maxAliasCount: 100 });
    } catch (err) {
      throw new ConfigError("", `the tokens file ${path} is not valid YAML: ${(err as Error).message}`, {
        hint: "Write the tokens file as `tokens: [{ token, worker, role }]`, without YAML aliases.",
        cause: err,
      });
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError("", `tokens file ${path}: ${issue.path.join(".")}: ${issue.message}`);
    }
    const entries = parsed.data.tokens.map((t, i) => {
      const ref = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(t.token);
      const value = ref ? env[ref[1]!] : t.token;
      if (!value) throw new ConfigError("", `tokens file ${path}: tokens.${i}.token: ${t.token} is not set`);
      return { worker: t.worker, role: t.role, digest: digest(value) };
    });
    return new TokenBook(entries);
  }

  static of(tokens: { token: string; worker: string; role: HttpRole }[]): TokenBook {
    return new TokenBook(tokens.map((t) => ({ worker: t.worker, role: t.role, digest: digest(t.token) })));
  }

  /** The identity of a presented token, comparing against every entry so timing says nothing. */
  identify(presented: string | null): TokenIdentity | null {
    if (!presented) return null;
    const given = digest(presented);
    let found: Entry | null = null;
    for (const entry of this.entries) {
      if (timingSafeEqual(given, entry.digest) && !found) found = entry;
    }
    return found ? { worker: found.worker, role: found.role } : null;
  }
}

/**
 * The token a request presents. `Authorization: Bearer …` serves every endpoint; the status page's
 * cookie (set by `/?token=`) is accepted only where `cookie: true` — the page itself — so a token
 * pasted into a browser once never authorizes `/mcp` calls from that browser.
 */
export function presentedToken(
  headers: { authorization?: string | undefined; cookie?: string | undefined },
  options: { cookie: boolean },
): string | null {
  const auth = headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || null;
  if (!options.cookie) return null;
  const cookie = headers.cookie
    ?.split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith("mai_gate_token="));
  return cookie ? decodeURIComponent(cookie.slice("mai_gate_token=".length)) : null;
}
