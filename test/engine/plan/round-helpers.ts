/**
 * Small builders for round tests: snapshots written as plain JSON go
 * through `validateFacts` (so tests see the defaults a real snapshot gets).
 */
import { formatFactErrors, validateFacts } from "../../../engine/plan/facts.js";
import { createRound } from "../../../engine/plan/round.js";
import type { ActionOrigin, PlacementConstraint, RoundState } from "../../../grammar/view.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type PlanSettings } from "../../../engine/types.js";

export interface VmJson {
  name: string;
  cpu: number;
  mem: number;
  pinned?: boolean;
  labels?: Record<string, string>;
  cpu_avg?: number;
}

export function vm(name: string, cpu: number, mem: number, extra: Partial<VmJson> = {}): VmJson {
  return { name, cpu, mem, ...extra };
}

export function host(name: string, state: string, cpus: number, mem: number, vms: VmJson[], labels?: Record<string, string>) {
  return { name, state, cpus, mem, vms, ...(labels ? { labels } : {}) };
}

export function facts(json: unknown): Facts {
  const r = validateFacts(json);
  if (!r.ok) throw new Error(`bad test facts:\n${formatFactErrors(r.errors)}`);
  return r.facts;
}

export function settings(over: Partial<PlanSettings> = {}): PlanSettings {
  return { ...DEFAULT_PLAN_SETTINGS, ...over };
}

export const origin: ActionOrigin = { rule: "t.r" };

export function round(json: unknown, over: Partial<PlanSettings> = {}, constraints: PlacementConstraint[] = []): RoundState {
  return createRound(facts(json), settings(over), constraints);
}

/** Looks a host or VM up and fails the test when it is missing. */
export function H(r: RoundState, name: string) {
  const h = r.hostByName(name);
  if (h === undefined) throw new Error(`no host ${name}`);
  return h;
}

export function V(r: RoundState, name: string) {
  const v = r.vmByName(name);
  if (v === undefined) throw new Error(`no vm ${name}`);
  return v;
}
