import * as listTool from "../../tools/list-slot-leases.js";
import * as reserveTool from "../../tools/reserve-migration-slot.js";
import type { RepoStateDeps } from "../repo/state.js";
import { listLeases } from "../slots/list.js";
import { releaseSlot } from "../slots/release.js";
import { reserveSlot } from "../slots/reserve.js";
import { json, out, table } from "./output.js";

/** `mai-gate reserve NAME`: the same reservation a worker's tool call makes. */
export async function reserveCommand(
  ws: RepoStateDeps,
  name: string,
  options: { count?: number; json: boolean },
) {
  const result = await reserveSlot(ws, { name, count: options.count });
  if (options.json) json(reserveTool.toOutput(result));
  else out(reserveTool.toText(result));
}

/** `mai-gate leases`: every lease with its state, for people and the head. */
export async function leasesCommand(
  ws: RepoStateDeps,
  options: { json: boolean; all: boolean; worker?: string },
) {
  const result = await listLeases(ws, { includeEnded: options.all, worker: options.worker });
  if (options.json) {
    json(listTool.toOutput(result));
    return;
  }
  const rows = result.leases.map(({ lease, state, conflicts }) => [
    String(lease.version),
    lease.name,
    state,
    lease.worker,
    lease.branch ?? "-",
    age(result.now - lease.createdAt),
    lease.id,
    conflicts.map((c) => c.name ?? "?").join(", "),
  ]);
  out(table(["VERSION", "NAME", "STATE", "WORKER", "BRANCH", "AGE", "LEASE", "CONFLICTS WITH"], rows));
  out("");
  out(listTool.toText(result));
}

/** `mai-gate release LEASE --reason R`. */
export async function releaseCommand(
  ws: RepoStateDeps,
  leaseId: string,
  reason: string,
  options: { json: boolean },
) {
  const r = await releaseSlot(ws, { leaseId, reason });
  if (options.json) json({ lease: r.lease, released: r.released });
  else
    out(
      `${r.released ? "released" : "already ended"}: lease ${r.lease.id} (version ${r.lease.version}, ${r.lease.worker})`,
    );
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
