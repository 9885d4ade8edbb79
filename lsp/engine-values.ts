/**
 * The values of params and lets in the latest plan of a running engine
 * (`GET /plan`, SPEC 3 `values`), for hover when the server was started
 * with `--engine URL`. Reads are open without a token (SPEC 5). One fetch
 * serves hovers for two seconds; an engine that does not answer within a
 * second costs the hover its value, nothing more.
 */
import type { PlanValueLookup } from "./hover.js";

const FRESH_MS = 2000;
const TIMEOUT_MS = 1000;

/** A lookup of `values.POLICY.NAME` in the engine's latest plan. */
export function engineValues(engineUrl: string): PlanValueLookup {
  const base = engineUrl.replace(/\/+$/, "");
  let cached: { at: number; values: Record<string, Record<string, unknown>> | null } | null = null;
  const load = async (): Promise<Record<string, Record<string, unknown>> | null> => {
    if (cached !== null && Date.now() - cached.at < FRESH_MS) return cached.values;
    let values: Record<string, Record<string, unknown>> | null = null;
    try {
      const res = await fetch(`${base}/plan`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (res.ok) {
        const plan = (await res.json()) as { values?: Record<string, Record<string, unknown>> };
        values = plan.values ?? null;
      }
    } catch {
      values = null;
    }
    cached = { at: Date.now(), values };
    return values;
  };
  return async (policy, name) => {
    const values = await load();
    const v = values?.[policy];
    if (v === undefined || !Object.hasOwn(v, name)) return undefined;
    return { value: v[name], engine: base };
  };
}
