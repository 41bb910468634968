import { describe, expect, it } from "vitest";
import { findMigration, notReadiness } from "../../../src/deploy-config/commands.js";
import { formatDuration, parseDuration } from "../../../src/deploy-config/duration.js";
import type { StartCommand } from "../../../src/deploy-config/settings.js";

describe("notReadiness", () => {
  it("accepts a check that asks the app over HTTP on its ready/health path", () => {
    expect(notReadiness(["CMD", "curl", "-fsS", "http://localhost:8080/readyz"])).toBeNull();
    expect(notReadiness(["CMD", "wget", "-q", "--spider", "http://127.0.0.1:3000/healthz"])).toBeNull();
    expect(notReadiness(["CMD", "/app/server", "probe", "--url=http://localhost:8080/ready"])).toBeNull();
    expect(notReadiness(["CMD-SHELL", "curl --fail http://localhost/health || exit 1"])).toBeNull();
  });

  it("rejects checks that only see a process or always succeed", () => {
    const cases: string[][] = [
      ["CMD", "true"],
      ["CMD-SHELL", "exit 0"],
      ["CMD-SHELL", "pgrep server"],
      ["CMD", "pidof server"],
      ["CMD-SHELL", "ps aux | grep server"],
      ["CMD-SHELL", "kill -0 1"],
      ["CMD-SHELL", "test -e /proc/1/status"],
      ["CMD-SHELL", "nc -z localhost 8080"],
      ["CMD-SHELL", "curl -f http://localhost:8080/readyz || true"],
      ["CMD", "curl", "http://localhost:8080/readyz"],
      ["CMD", "curl", "-f", "http://localhost:8080/"],
    ];
    for (const test of cases) expect(notReadiness(test), test.join(" ")).not.toBeNull();
  });
});

const list = (...items: string[]): StartCommand => ({ key: "command", line: 1, form: "list", items });
const str = (script: string): StartCommand => ({ key: "command", line: 1, form: "string", items: [script] });

describe("findMigration", () => {
  it("finds the app's flag and the common migrators", () => {
    expect(findMigration(list("/app", "-migrate", "serve"), [])?.kept).toEqual(["/app", "serve"]);
    expect(findMigration(list("/app", "--migrate=true"), [])?.kept).toEqual(["/app"]);
    expect(findMigration(list("-migrate", "serve"), [])).toMatchObject({
      kept: ["serve"],
      removed: "-migrate",
    });
    expect(findMigration(list("migrate", "-path", "/m", "-database", "$DB", "up"), [])?.kept).toBeNull();
    for (const [script, kept] of [
      ["goose -dir /m postgres $DB up && /app", "/app"],
      ["atlas migrate apply --url $DB; /app", "/app"],
      ["dbmate up && exec /app", "exec /app"],
      ["flyway migrate && /app", "/app"],
      ["/app/migrate up && /app/server", "/app/server"],
    ])
      expect(findMigration(str(script!), [])?.kept, script).toEqual([kept]);
  });

  it("leaves a command alone that only mentions migrations", () => {
    expect(findMigration(list("/app", "-migrate=false", "serve"), [])).toBeNull();
    expect(findMigration(list("/app", "--migrations-dir", "/m", "serve"), [])).toBeNull();
    expect(findMigration(list("goose", "status"), [])).toBeNull();
  });

  it("uses the configured migrate commands as substrings", () => {
    const use = findMigration(str("/srv/paliad schema-apply && /srv/paliad"), ["paliad schema-apply"]);
    expect(use).toMatchObject({ kept: ["/srv/paliad"], removed: "/srv/paliad schema-apply" });
  });
});

describe("durations", () => {
  it("reads Go durations and compose defaults", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h")).toBe(3_600_000);
    const env = (inner: string) => `$${"{"}${inner}}`; // compose interpolation, not a JS template
    expect(parseDuration(env("MONITOR:-2m"))).toBe(120_000);
    expect(parseDuration(env("MONITOR"))).toBeNull();
    expect(parseDuration("soon")).toBeNull();
    expect(formatDuration(140_000)).toBe("140s");
  });
});
