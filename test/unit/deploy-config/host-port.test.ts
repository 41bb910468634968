import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkComposeText } from "../../../src/deploy-config/compose.js";
import { checkDokploySwarm } from "../../../src/deploy-config/dokploy.js";
import type { DeployCheck } from "../../../src/deploy-config/types.js";

// The same rule on the live Swarm service, read from a real engine: test/integration/swarm-real.test.ts.
const EXAMPLE = readFileSync(new URL("../../../examples/swarm-deploy.yaml", import.meta.url), "utf8");

/** The recommended example with its published port written in the long syntax, in `mode`. */
function withPort(mode: string, extra = ""): string {
  const port = [
    "    ports:",
    "      - target: 8080",
    "        published: 8080",
    `        mode: ${mode}`,
  ].join("\n");
  return EXAMPLE.replace(/ {4}ports:\n {6}- "8080:8080".*\n/, `${port}\n`) + extra;
}

const rules = (check: DeployCheck) => check.findings.map((f) => f.rule);

describe("start-first with a port published in host mode (the new task can never be placed)", () => {
  it("the recommended block is safe with the routing mesh, and red once its port is in host mode", () => {
    expect(rules(checkComposeText(EXAMPLE, "swarm-deploy.yaml"))).toEqual([]);
    expect(rules(checkComposeText(withPort("ingress"), "swarm-deploy.yaml"))).toEqual([]);
    const check = checkComposeText(withPort("host"), "swarm-deploy.yaml");
    expect(rules(check)).toEqual(["start_first_host_port"]);
    const f = check.findings[0]!;
    const modeLine =
      withPort("host")
        .split("\n")
        .findIndex((l) => l.includes("mode: host")) + 1;
    expect(f.line).toBe(modeLine);
    expect(f.detail).toContain("update_config.order is start-first and rollback_config.order is start-first");
    expect(f.detail).toContain("publishes port 8080 (target 8080/tcp) in host mode");
    expect(f.consequence).toContain("host-mode port already in use");
    expect(f.fix).toContain("mode: ingress");
    expect(check.verdict).toContain("start-first with a host-mode port never completes");
  });

  it("cannot be hidden behind a quoted mode, an anchor or a merge key", () => {
    const quoted = withPort('"host"');
    expect(rules(checkComposeText(quoted, "s.yaml"))).toEqual(["start_first_host_port"]);
    const anchored = withPort("*m").replace("services:", "x-mode: &m host\nservices:");
    expect(rules(checkComposeText(anchored, "s.yaml"))).toEqual(["start_first_host_port"]);
    const merged = EXAMPLE.replace(
      /ports:\n {6}- "8080:8080".*\n/,
      "ports:\n      - <<: *p\n        target: 8080\n",
    ).replace("services:", "x-port: &p { published: 8080, mode: host }\nservices:");
    expect(rules(checkComposeText(merged, "s.yaml"))).toEqual(["start_first_host_port"]);
  });

  it("a start-first rollback alone is enough; stop-first everywhere is the update_order finding, whose fix moves the port", () => {
    const rollbackOnly = withPort("host").replace(
      "order: start-first # start the new",
      "order: stop-first # start the new",
    );
    const check = checkComposeText(rollbackOnly, "s.yaml");
    expect(rules(check)).toEqual(["update_order", "start_first_host_port"]);
    expect(check.findings[1]!.detail).toContain("rollback_config.order is start-first");
    expect(check.findings[0]!.fix).toContain("mode: ingress");
    const stopFirst = rollbackOnly.replace(
      "order: start-first # the old version",
      "order: stop-first # the old version",
    );
    const stop = checkComposeText(stopFirst, "s.yaml");
    expect(rules(stop)).toEqual(["update_order"]);
    expect(stop.findings[0]!.fix).toContain("order: start-first");
    expect(stop.findings[0]!.fix).toContain("mode: ingress");
  });

  it("Dokploy: a port with publishMode host under Dokploy's default start-first", () => {
    const app = {
      applicationId: "a1",
      appName: "app",
      updateConfigSwarm: null,
      ports: [{ publishedPort: 8080, targetPort: 8080, protocol: "tcp", publishMode: "host" }],
    };
    const check = checkDokploySwarm(app, "a1");
    expect(rules(check)).toContain("start_first_host_port");
    const ingress = { ...app, ports: [{ ...app.ports[0], publishMode: "ingress" }] };
    expect(rules(checkDokploySwarm(ingress, "a1"))).not.toContain("start_first_host_port");
  });
});
