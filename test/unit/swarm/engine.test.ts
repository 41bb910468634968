import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineGet, engineTarget } from "../../../src/swarm/engine.js";
import { demux, readSwarmService } from "../../../src/swarm/read.js";

describe("deploy.docker", () => {
  const refused = (endpoint: string, tls?: Record<string, string>) => {
    try {
      engineTarget(endpoint, tls);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  };

  it("takes a unix socket or tcp://, and refuses the Docker API without TLS off loopback", () => {
    expect(engineTarget("unix:///var/run/docker.sock", undefined)).toMatchObject({ kind: "unix" });
    expect(engineTarget("tcp://127.0.0.1:2375", undefined)).toMatchObject({
      kind: "tcp",
      port: 2375,
      tls: null,
    });
    expect(refused("unix://docker.sock")).toContain("a unix socket needs an absolute path");
    expect(refused("http://manager:2375")).toContain("neither unix:// nor tcp://");
    expect(refused("tcp://manager:2375")).toContain("without TLS: the Docker API gives root");
    // An empty env: value leaves the key unset: still no TLS.
    expect(refused("tcp://manager:2376", { ca: "" })).toContain("without TLS");
    expect(refused("tcp://manager:2376", { ca: "x", cert: "y" })).toContain("needs both cert and key");
  });

  it("reads a multiplexed log stream and a TTY's plain bytes", () => {
    const frame = (stream: number, text: string) => {
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([head, Buffer.from(text)]);
    };
    expect(demux(Buffer.concat([frame(1, "starting\n"), frame(2, "migration 125 failed\n")]))).toBe(
      "starting\nmigration 125 failed\n",
    );
    expect(demux(Buffer.from("plain tty output\n"))).toBe("plain tty output\n");
  });
});

/**
 * tcp:// with TLS against a small local HTTPS server speaking the Engine's documented JSON (the
 * private dockerd of the Swarm tests lives in its own network namespace, out of reach of TCP from
 * here): the CA verifies the server, the server requires the client certificate.
 */
describe("a tcp:// engine with TLS (a local HTTPS server speaking the Engine API's JSON)", () => {
  let dir: string;
  let server: Server;
  let port: number;
  const pem: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mai-gate-tls-"));
    const ssl = (...args: string[]) => execa("openssl", args, { cwd: dir });
    await ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=test-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    );
    for (const [name, ext] of [
      ["server", "subjectAltName=IP:127.0.0.1"],
      ["client", "extendedKeyUsage=clientAuth"],
    ] as const) {
      await ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        `/CN=${name}`,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
      );
      await writeExt(dir, name, ext);
      await ssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      );
    }
    for (const f of ["ca.pem", "server.pem", "server.key", "client.pem", "client.key"])
      pem[f] = await readFile(join(dir, f), "utf8");
    server = createServer(
      {
        key: pem["server.key"],
        cert: pem["server.pem"],
        ca: pem["ca.pem"],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        const json = (status: number, body: unknown) => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (req.url === "/v1.41/services/app_web")
          return json(200, {
            ID: "svc1",
            Spec: {
              Name: "app_web",
              Mode: { Replicated: { Replicas: 1 } },
              TaskTemplate: { ContainerSpec: { Image: "app:v1@sha256:abc" } },
            },
          });
        if (req.url?.startsWith("/v1.41/tasks?"))
          return json(200, [
            {
              ID: "t1",
              DesiredState: "running",
              Status: { State: "running" },
              Spec: { ContainerSpec: { Image: "app:v1@sha256:abc" } },
            },
          ]);
        json(404, { message: "page not found" });
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reads the service with the CA and the client certificate", async () => {
    const target = engineTarget(`tcp://127.0.0.1:${port}`, {
      ca: pem["ca.pem"],
      cert: pem["client.pem"],
      key: pem["client.key"],
    });
    const s = await readSwarmService(target, "app_web", { timeoutMs: 3000 });
    expect(s).toMatchObject({ name: "app_web", image: "app:v1", replicas: 1 });
    expect(s.tasks.map((t) => [t.image, t.state])).toEqual([["app:v1", "running"]]);
  });

  it("fails closed without the client certificate, or with a CA that did not sign the server", async () => {
    const noClient = engineTarget(`tcp://127.0.0.1:${port}`, { ca: pem["ca.pem"] });
    await expect(engineGet(noClient, "/version", { timeoutMs: 3000 })).rejects.toThrow(/^docker: /);
    const wrongCa = engineTarget(`tcp://127.0.0.1:${port}`, {
      ca: pem["server.pem"],
      cert: pem["client.pem"],
      key: pem["client.key"],
    });
    await expect(engineGet(wrongCa, "/version", { timeoutMs: 3000 })).rejects.toThrow(
      /TLS error talking to tcp:\/\/127\.0\.0\.1/,
    );
  });
});

async function writeExt(dir: string, name: string, ext: string) {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
}
