/**
 * Settings read from Docker Engine-shaped JSON, which a live Swarm service spec (`GET /services`)
 * and Dokploy's `*Swarm` fields both are: a string field, a duration in nanoseconds, the
 * container's health check. Absent or zero means the engine's default, said so.
 */
import { numberField, stringField } from "../deploy/json.js";
import { nsToMs } from "./duration.js";
import { HEALTH_DEFAULTS, type HealthSettings, type Setting, setting } from "./settings.js";

type Json = Record<string, unknown>;

export function textField(
  obj: Json | undefined,
  key: string,
  field: string,
  fallback: string,
  note: string,
): Setting<string> {
  const value = obj ? stringField(obj, field) : null;
  return value === null
    ? { ...setting(key, fallback, false, null, fallback, note), missing: "not set" }
    : setting(key, value, true, null, value, note);
}

/** A duration in nanoseconds; `missing` says how an absent one reads ("not set"; else "absent"). */
export function nsField(
  obj: Json | undefined,
  key: string,
  field: string,
  fallback: number | null,
  note: string,
  missing?: string,
): Setting<number | null> {
  const ns = obj ? numberField(obj, field) : null;
  if (ns === null || ns <= 0) {
    const absent = setting<number | null>(key, fallback, false, null, "", note);
    return missing === undefined ? absent : { ...absent, missing: ns === 0 ? "0" : missing };
  }
  return setting<number | null>(key, nsToMs(ns), true, null, `${ns} ns`, note);
}

/** How one source names the health check's keys and says it is missing. */
export interface HealthNames {
  key: string;
  testKey: string;
  /** The key of one of its fields, e.g. `Healthcheck.Interval`. */
  field: (name: string) => string;
  missing: string;
  /** How an absent duration field reads (see `nsField`). */
  durationMissing?: string;
}

/** Docker's HealthConfig (`Test`, `Interval`, `Retries`, `StartPeriod`), with Docker's defaults. */
export function engineHealth(hc: Json | undefined, names: HealthNames): HealthSettings {
  const retries = hc ? numberField(hc, "Retries") : null;
  const retriesKey = names.field("Retries");
  const base = {
    missing: names.missing,
    key: names.key,
    line: null,
    test: null,
    testKey: names.testKey,
    testLine: null,
    intervalMs: nsField(
      hc,
      names.field("Interval"),
      "Interval",
      HEALTH_DEFAULTS.intervalMs,
      "the default is 30s",
      names.durationMissing,
    ),
    retries:
      retries !== null && retries > 0
        ? setting<number | null>(retriesKey, retries, true, null, String(retries), "")
        : setting<number | null>(retriesKey, HEALTH_DEFAULTS.retries, false, null, "", "the default is 3"),
    startPeriodMs: nsField(
      hc,
      names.field("StartPeriod"),
      "StartPeriod",
      HEALTH_DEFAULTS.startPeriodMs,
      "the default is 0s",
      names.durationMissing,
    ),
  };
  if (!hc) return { ...base, state: "absent" };
  const test = Array.isArray(hc.Test) ? hc.Test.filter((t): t is string => typeof t === "string") : [];
  if (test.length === 0) return { ...base, state: "no_test" };
  if (test[0] === "NONE") return { ...base, state: "disabled", key: `${names.field("Test")} ["NONE"]` };
  return { ...base, state: "test", test };
}
