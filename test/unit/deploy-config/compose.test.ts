import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { checkComposeText } from "../../../src/deploy-config/compose.js";
import { DeployConfigError } from "../../../src/deploy-config/errors.js";
import type { DeployCheck, DeployFinding } from "../../../src/deploy-config/types.js";

const SAFE = "a failed deploy keeps the old container serving";

/** The rule → line pairs of a check, in order. */
const lines = (check: DeployCheck) => check.findings.map((f) => [f.service, f.rule, f.line]);
const only = (check: DeployCheck, rule: DeployFinding["rule"], service?: string) => {
  const found = check.findings.filter((f) => f.rule === rule && (!service || f.service === service));
  expect(found).toHaveLength(1);
  return found[0]!;
};

/** The settings behind the outage: no health check, no update_config, migrations in the command. */
const OUTAGE = [
  'version: "3.8"', //                                      1
  "services:", //                                           2
  "  app:", //                                              3
  "    image: registry.example.com/paliad/app:latest", //   4
  '    command: ["/app", "-migrate", "serve"]', //          5
  "    ports:", //                                          6
  '      - "8080:8080"', //                                 7
  "    deploy:", //                                         8
  "      replicas: 1", //                                   9
  "",
].join("\n");

describe("checkComposeText on the outage's stack file", () => {
  const check = checkComposeText(OUTAGE, "docker-compose.yml");

  it("finds every rule, each on its exact line", () => {
    expect(check.source).toBe("docker-compose.yml");
    expect(check.services).toEqual(["app"]);
    expect(lines(check)).toEqual([
      ["app", "no_healthcheck", 3],
      ["app", "failure_action", 3],
      ["app", "update_order", 3],
      ["app", "monitor_too_short", 3],
      ["app", "no_rollback_config", 3],
      ["app", "migrations_in_entrypoint", 5],
      ["app", "restart_unbounded", 3],
    ]);
    for (const f of check.findings) expect(f.file).toBe("docker-compose.yml");
    expect(check.verdict).toMatch(/^a failed deploy can take the site offline/);
  });

  it("says why a missing health check lets a crash-looping release in, and that the image is not visible", () => {
    const f = only(check, "no_healthcheck");
    expect(f.defaultAssumed).toBe(true);
    expect(f.detail).toContain("HEALTHCHECK in the image is not visible");
    expect(f.consequence).toMatch(/counts as running as soon as its process starts/);
    expect(f.consequence.split(/\.\s/)).toHaveLength(1);
    expect(f.fix).toBe(
      [
        "healthcheck:",
        '  test: ["CMD", "curl", "-fsS", "http://localhost:8080/readyz"]',
        "  interval: 10s",
        "  timeout: 3s",
        "  retries: 3",
        "  start_period: 30s",
      ].join("\n"),
    );
  });

  it("shows the command without the migration and where the migration goes instead", () => {
    const f = only(check, "migrations_in_entrypoint");
    expect(f.defaultAssumed).toBe(false);
    expect(f.detail).toContain("-migrate");
    const [first, note] = f.fix.split("\n");
    expect(first).toBe('command: ["/app", "serve"]');
    expect(note).toContain("pre-deploy step after `mai-gate check`");
    expect(note).toContain("docker run --rm registry.example.com/paliad/app:latest /app -migrate");
  });

  it("writes each update fix as the exact YAML block under the service", () => {
    expect(only(check, "failure_action").fix).toBe("deploy:\n  update_config:\n    failure_action: rollback");
    expect(only(check, "update_order").fix).toBe("deploy:\n  update_config:\n    order: start-first");
    expect(only(check, "monitor_too_short").fix).toBe("deploy:\n  update_config:\n    monitor: 140s");
    expect(only(check, "restart_unbounded").fix).toContain("max_attempts: 3");
  });
});

/** Merge `patch` into `target` the way a person pastes a block under the service. */
function deepMerge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const current = target[key];
    if (isObject(current) && isObject(value)) deepMerge(current, value);
    else target[key] = value;
  }
}
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

describe("the fixes of the outage's file", () => {
  it("are valid YAML and, pasted under the service, leave no finding", () => {
    const doc = parse(OUTAGE) as { services: { app: Record<string, unknown> } };
    for (const f of checkComposeText(OUTAGE, "docker-compose.yml").findings) {
      const block: unknown = parse(f.fix);
      expect(isObject(block), f.rule).toBe(true);
      deepMerge(doc.services.app, block as Record<string, unknown>);
    }
    const fixed = checkComposeText(stringify(doc), "fixed.yml");
    expect(fixed.findings).toEqual([]);
    expect(fixed.verdict).toBe(SAFE);
  });
});

describe("checkComposeText with an entrypoint script that migrates", () => {
  const text = [
    "services:", //                                                    1
    "  app:", //                                                       2
    "    image: app:abc123", //                                        3
    "    entrypoint:", //                                              4
    "      - /bin/sh", //                                              5
    "      - -c", //                                                   6
    "      - |", //                                                    7
    '        migrate -path /migrations -database "$DATABASE_URL" up', // 8
    "        exec /app/server", //                                     9
    "",
  ].join("\n");

  it("points at the entrypoint key and keeps only the server in the fix", () => {
    const f = only(checkComposeText(text, "stack.yml"), "migrations_in_entrypoint");
    expect(f.line).toBe(4);
    expect(f.fix.split("\n")[0]).toBe('entrypoint: ["/bin/sh", "-c", "exec /app/server"]');
    expect(f.fix).toContain('`migrate -path /migrations -database "$DATABASE_URL" up`');
  });

  it("finds the app's own migrate command given in options", () => {
    const own =
      'services:\n  app:\n    image: app\n    command: "/srv/paliad --apply-schema && /srv/paliad"\n';
    const plain = checkComposeText(own, "s.yml");
    expect(plain.findings.map((f) => f.rule)).not.toContain("migrations_in_entrypoint");
    const f = only(
      checkComposeText(own, "s.yml", { migrateCommands: ["--apply-schema"] }),
      "migrations_in_entrypoint",
    );
    expect(f.line).toBe(4);
    expect(f.fix.split("\n")[0]).toBe('command: "/srv/paliad && /srv/paliad"');
  });
});

describe("checkComposeText on the recommended file", () => {
  it("examples/swarm-deploy.yaml has no finding", () => {
    const text = readFileSync(new URL("../../../examples/swarm-deploy.yaml", import.meta.url), "utf8");
    const check = checkComposeText(text, "examples/swarm-deploy.yaml");
    expect(check.findings).toEqual([]);
    expect(check.services).toEqual(["app"]);
    expect(check.verdict).toBe(SAFE);
  });
});

describe("engine defaults where keys are absent", () => {
  const text = [
    "services:", //                                          1
    "  web:", //                                             2
    "    image: web:1", //                                   3
    "    healthcheck:", //                                   4
    '      test: ["CMD", "curl", "-f", "http://localhost:8080/healthz"]', // 5
    "      interval: 10s", //                                6
    "    deploy:", //                                        7
    "      update_config:", //                               8
    "        parallelism: 1", //                             9
    "      restart_policy:", //                              10
    "        delay: 5s", //                                  11
    "",
  ].join("\n");
  const check = checkComposeText(text, "compose.yaml");

  it("applies Swarm's defaults and names each one", () => {
    const fa = only(check, "failure_action");
    expect(fa).toMatchObject({ line: 2, defaultAssumed: true });
    expect(fa.detail).toBe("update_config.failure_action is absent: Swarm's default is pause");
    const order = only(check, "update_order");
    expect(order).toMatchObject({ line: 2, defaultAssumed: true });
    expect(order.detail).toBe("update_config.order is absent: Swarm's default is stop-first");
    const monitor = only(check, "monitor_too_short");
    expect(monitor).toMatchObject({ line: 2, defaultAssumed: true });
    expect(monitor.detail).toContain("update_config.monitor is absent: Swarm's default is 5s");
    expect(monitor.detail).toContain("30s"); // 0s start period + 10s interval × 3 default retries
    const restart = only(check, "restart_unbounded");
    expect(restart).toMatchObject({ line: 2, defaultAssumed: true });
    expect(restart.detail).toContain("restart_policy.condition is absent: Swarm's default is any");
    expect(restart.detail).toContain("max_attempts is absent: Swarm's default is unlimited");
    expect(only(check, "no_rollback_config").defaultAssumed).toBe(true);
    expect(check.findings.map((f) => f.rule)).not.toContain("no_healthcheck");
  });

  it("points at the key when it is present and wrong", () => {
    const wrong = [
      "services:", //                         1
      "  web:", //                            2
      "    healthcheck:", //                  3
      '      test: ["CMD-SHELL", "pgrep server || exit 1"]', // 4
      "      interval: 10s", //               5
      "      start_period: 1m30s", //         6
      "    deploy:", //                       7
      "      update_config:", //              8
      "        failure_action: continue", //  9
      "        order: stop-first", //         10
      "        monitor: 500ms", //            11
      "      rollback_config: {order: start-first}", // 12
      "      restart_policy:", //             13
      "        condition: on-failure", //     14
      "        max_attempts: 0", //           15
      "",
    ].join("\n");
    const c = checkComposeText(wrong, "w.yml");
    expect(lines(c)).toEqual([
      ["web", "healthcheck_not_readiness", 4],
      ["web", "failure_action", 9],
      ["web", "update_order", 10],
      ["web", "monitor_too_short", 11],
      ["web", "restart_unbounded", 15],
    ]);
    expect(c.findings.every((f) => !f.defaultAssumed || f.rule === "restart_unbounded")).toBe(true);
    expect(only(c, "monitor_too_short").detail).toContain("the 120s the health check needs"); // 90s + 10s × 3
    expect(only(c, "monitor_too_short").detail).toContain("start period 90s + interval 10s × retries 3");
    expect(only(c, "monitor_too_short").fix).toBe("deploy:\n  update_config:\n    monitor: 180s");
  });

  it("treats disable: true and test NONE as no health check", () => {
    const off =
      "services:\n  a:\n    healthcheck:\n      disable: true\n  b:\n    healthcheck:\n      test: [NONE]\n";
    const c = checkComposeText(off, "off.yml");
    expect(only(c, "no_healthcheck", "a")).toMatchObject({ line: 4, defaultAssumed: false });
    expect(only(c, "no_healthcheck", "b")).toMatchObject({ line: 7, defaultAssumed: false });
  });
});

describe("anchors, merge keys and x- extension fields", () => {
  const text = [
    'version: "3.8"', //                                   1
    "x-deploy: &safe-deploy", //                           2
    "  update_config:", //                                 3
    "    order: start-first", //                           4
    "    failure_action: rollback", //                     5
    "    monitor: 90s", //                                 6
    "  rollback_config:", //                               7
    "    order: start-first", //                           8
    "  restart_policy:", //                                9
    "    condition: on-failure", //                        10
    "    max_attempts: 3", //                              11
    "x-ready: &ready", //                                  12
    '  test: ["CMD", "wget", "-q", "--spider", "http://localhost:3000/healthz"]', // 13
    "  interval: 10s", //                                  14
    "  start_period: 30s", //                              15
    "x-pgrep: &pgrep", //                                  16
    '  test: ["CMD-SHELL", "pgrep app"]', //               17
    "x-app: &app", //                                      18
    "  image: app:1", //                                   19
    "  healthcheck: *ready", //                            20
    "  deploy: *safe-deploy", //                           21
    "services:", //                                        22
    "  web:", //                                           23
    "    <<: *app", //                                     24
    "    x-notes: behind traefik", //                      25
    "  worker:", //                                        26
    "    <<: *app", //                                     27
    "    deploy:", //                                      28
    "      <<: *safe-deploy", //                           29
    "      update_config:", //                             30
    "        order: stop-first", //                        31
    "  legacy:", //                                        32
    "    <<: [*app]", //                                   33
    "    healthcheck: *pgrep", //                          34
    "",
  ].join("\n");
  const check = checkComposeText(text, "stack.yml");

  it("skips x- fields and passes a service that inherits a good deploy block", () => {
    expect(check.services).toEqual(["web", "worker", "legacy"]);
    expect(check.findings.filter((f) => f.service === "web")).toEqual([]);
  });

  it("overrides a merged key shallowly, as YAML does, and points into the file", () => {
    expect(lines(check).filter(([s]) => s === "worker")).toEqual([
      ["worker", "failure_action", 26],
      ["worker", "update_order", 31],
      ["worker", "monitor_too_short", 26],
    ]);
  });

  it("points an inherited bad key at the anchor it comes from", () => {
    expect(lines(check).filter(([s]) => s === "legacy")).toEqual([
      ["legacy", "healthcheck_not_readiness", 17],
    ]);
  });
});

describe("input that cannot be checked", () => {
  const error = (text: string) => {
    try {
      checkComposeText(text, "bad.yml");
    } catch (err) {
      return err;
    }
    throw new Error("expected a DeployConfigError");
  };

  it("text that is not YAML → DeployConfigError with the line", () => {
    const err = error("services:\n  app:\n    image: app\n\tdeploy: {}\n");
    expect(err).toBeInstanceOf(DeployConfigError);
    const e = err as DeployConfigError;
    expect(e.line).toBe(4);
    expect(e.message).toMatch(/^bad\.yml is not valid YAML at line 4/);
    expect(e.hint).not.toBe("");
  });

  it("YAML that is not a compose file → DeployConfigError", () => {
    for (const [text, line] of [
      ["name: app\nitems: [1, 2]\n", null],
      ["just a string\n", 1],
      ["services:\n  - app\n  - db\n", 1],
      ["services:\n  app: nginx:latest\n", 2],
      ["", null],
    ] as const) {
      const err = error(text);
      expect(err).toBeInstanceOf(DeployConfigError);
      expect((err as DeployConfigError).message).toContain("is not a compose file");
      expect((err as DeployConfigError).line).toBe(line);
    }
  });
});
