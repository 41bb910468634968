import type { RepoState } from "../repo/state.js";

/** What the answer says about production, so "not checked" is never silent. */
export interface ProductionReport {
  status: "checked" | "unreachable" | "not_configured";
  maxVersion: number | null;
  applied: number;
  namesKnown: boolean;
  dirty: boolean;
  detail: string;
}

export function productionReport(state: RepoState): ProductionReport {
  const p = state.production;
  if (p.status === "checked") {
    const h = p.history;
    return {
      status: "checked",
      maxVersion: h.maxVersion,
      applied: h.rows.length,
      namesKnown: h.namesKnown,
      dirty: h.dirty,
      detail: `read ${h.table} (${h.format}): ${h.rows.length} row(s), max ${h.maxVersion ?? "none"}`,
    };
  }
  return {
    status: p.status,
    maxVersion: null,
    applied: 0,
    namesKnown: false,
    dirty: false,
    detail: p.status === "unreachable" ? p.error : p.reason,
  };
}

/** Plain sentences about sources that could not be read or look wrong. */
export function sourceWarnings(state: RepoState): string[] {
  const out: string[] = [];
  const p = state.production;
  if (p.status === "unreachable") {
    out.push(
      `Production was NOT checked (${p.error}). The decision used git and leases only; the lease is marked and the gate re-checks production later.`,
    );
  } else if (p.status === "not_configured" && p.reason.includes("not set")) {
    out.push(`Production was NOT checked: ${p.reason}.`);
  } else if (p.status === "checked") {
    if (p.history.dirty)
      out.push("Production's history is dirty: its migrator is stuck and the app will refuse to start.");
    if (!p.history.namesKnown)
      out.push(
        `Production's history format (${p.history.format}) stores no names: name checks were skipped.`,
      );
  }
  if (state.fetch.status === "failed") {
    out.push(
      `git fetch ${state.fetch.remote} failed (${state.fetch.error}): decided from the refs already here.`,
    );
  }
  for (const d of state.main.catalog.defects) {
    out.push(
      d.kind === "duplicate_version"
        ? `main has two migrations with version ${d.version}: ${d.files.join(", ")}`
        : `main has a file the layout cannot read: ${d.file} (${d.reason})`,
    );
  }
  return out;
}
