/**
 * One Swarm service as the engine reports it: its spec (what runs, how updates and rollbacks go),
 * its update status, and its tasks, with the last lines a failed task printed. Every field of the
 * engine's JSON is checked before use.
 */
import { SourceError } from "../deploy/errors.js";
import { asRecord, numberField, stringField } from "../deploy/json.js";
import { type EngineTarget, engineGet, expectJson, SOURCE } from "./engine.js";

type Json = Record<string, unknown>;

export interface SwarmTask {
  id: string;
  slot: number | null;
  /** The image without a pinned digest, e.g. "app:v2". */
  image: string;
  desiredState: string;
  state: string;
  /** The engine's status message ("started", "pending", …). */
  message: string | null;
  /** Why the task failed or cannot be placed, e.g. "task: non-zero exit (1)". */
  error: string | null;
  exitCode: number | null;
  createdAt: string | null;
  /** The last line the task's container printed, for a failed task (null when not read). */
  lastLog: string | null;
}

export interface SwarmService {
  id: string;
  name: string;
  /** The spec's image now (after a rollback: the previous one again). */
  image: string;
  /** The image before the last update, when the engine still keeps the previous spec. */
  previousImage: string | null;
  /** null for a global service. */
  replicas: number | null;
  update: { state: string; message: string | null; startedAt: string | null } | null;
  spec: Json;
  tasks: SwarmTask[];
}

/** How many failed tasks' logs are read, and how much of each. */
const LOGGED_TASKS = 3;
const LOG_TAIL_LINES = 20;

/** `GET /services/{name}`, its tasks, and the last log line of its newest failed tasks. */
export async function readSwarmService(
  target: EngineTarget,
  name: string,
  options: { timeoutMs: number },
): Promise<SwarmService> {
  const get = (path: string) => engineGet(target, path, options);
  const service = asRecord(
    expectJson(
      await get(`/services/${encodeURIComponent(name)}`),
      `service ${name}`,
      "Check deploy.service: the Swarm service's full name, as `docker service ls` shows it (stack_service).",
    ),
  );
  const spec = asRecord(service?.Spec);
  const id = service ? stringField(service, "ID") : null;
  if (!service || !spec || !id)
    throw new SourceError(
      SOURCE,
      `docker: service ${name}: the answer is not a service`,
      "Check deploy.docker.",
    );
  const filters = encodeURIComponent(JSON.stringify({ service: [id] }));
  const list = expectJson(await get(`/tasks?filters=${filters}`), `tasks of ${name}`, "");
  const tasks = (Array.isArray(list) ? list : []).flatMap(toTask);
  tasks.sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? ""));
  const failed = tasks.filter((t) => t.state === "failed" || t.state === "rejected").slice(0, LOGGED_TASKS);
  await Promise.all(
    failed.map(async (t) => {
      t.lastLog = await lastLogLine(target, t.id, options.timeoutMs);
    }),
  );
  const status = asRecord(service.UpdateStatus);
  const previous = asRecord(service.PreviousSpec);
  const replicated = asRecord(asRecord(spec.Mode)?.Replicated);
  return {
    id,
    name: stringField(spec, "Name") ?? name,
    image: specImage(spec) ?? "?",
    previousImage: previous ? specImage(previous) : null,
    replicas: replicated ? (numberField(replicated, "Replicas") ?? 1) : null,
    update: status
      ? {
          state: stringField(status, "State") ?? "unknown",
          message: stringField(status, "Message"),
          startedAt: stringField(status, "StartedAt"),
        }
      : null,
    spec,
    tasks,
  };
}

/** "registry/app:v2@sha256:…" → "registry/app:v2". */
export function shortImage(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, "");
}

function specImage(spec: Json): string | null {
  const image = stringField(asRecord(asRecord(spec.TaskTemplate)?.ContainerSpec) ?? {}, "Image");
  return image ? shortImage(image) : null;
}

function toTask(raw: unknown): SwarmTask[] {
  const t = asRecord(raw);
  const id = t ? stringField(t, "ID") : null;
  if (!t || !id) return [];
  const status = asRecord(t.Status) ?? {};
  const container = asRecord(status.ContainerStatus);
  const image = stringField(asRecord(asRecord(t.Spec)?.ContainerSpec) ?? {}, "Image");
  const exitCode = container ? numberField(container, "ExitCode") : null;
  return [
    {
      id,
      slot: numberField(t, "Slot"),
      image: image ? shortImage(image) : "?",
      desiredState: stringField(t, "DesiredState") ?? "unknown",
      state: stringField(status, "State") ?? "unknown",
      message: stringField(status, "Message"),
      error: stringField(status, "Err"),
      exitCode: exitCode !== null && stringField(status, "Err") !== null ? exitCode : null,
      createdAt: stringField(t, "CreatedAt"),
      lastLog: null,
    },
  ];
}

/** The last non-empty line of a task's output (`GET /tasks/{id}/logs`), or null when it cannot be read. */
async function lastLogLine(target: EngineTarget, id: string, timeoutMs: number): Promise<string | null> {
  try {
    const answer = await engineGet(
      target,
      `/tasks/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${LOG_TAIL_LINES}`,
      { timeoutMs },
    );
    if (answer.status !== 200) return null;
    const lines = demux(answer.body)
      .split("\n")
      .map(plainLine)
      .filter((l) => l !== "");
    const last = lines.at(-1);
    return last === undefined ? null : last.length > 200 ? `${last.slice(0, 197)}...` : last;
  } catch {
    return null;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes begin with ESC.
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** One plain line for a sentence: no terminal escapes or other control characters. */
function plainLine(line: string): string {
  return line.replace(ESCAPES, "").replace(CONTROL, " ").trim();
}

/**
 * The text of a log stream: a container without a TTY sends frames of an 8-byte header (stream,
 * 0, 0, 0, big-endian length) and the bytes; with a TTY the bytes come as they are.
 */
export function demux(body: Buffer): string {
  const framed = body.length >= 8 && body[0]! <= 2 && body[1] === 0 && body[2] === 0 && body[3] === 0;
  if (!framed) return body.toString("utf8");
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= body.length) {
    const size = body.readUInt32BE(at + 4);
    parts.push(body.subarray(at + 8, Math.min(body.length, at + 8 + size)));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}
