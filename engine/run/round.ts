/**
 * The pure parts of one round (SPEC 5): turning the gathered view into a
 * validated snapshot and a plan, rendering what happened as one log line,
 * and the hosts' part of `/status`. The Engine does the I/O around these (gathering, executing,
 * journaling); keeping them apart keeps the loop readable.
 */
import type { CompiledPolicySet } from "../../grammar/compile.js";
import { validateFacts } from "../plan/facts.js";
import { planRound } from "../plan/index.js";
import type { HostStatus } from "../http/control.js";
import type { HostTracker } from "./gather.js";
import { dropInvalid, type FactFault, faultAlert } from "./isolation.js";
import type { Facts, FactError, Plan, PlannedAction, PlanSettings, SkippedAction } from "../types.js";

export type PlanOutcome = { readonly ok: true; readonly facts: Facts; readonly plan: Plan } | { readonly ok: false; readonly errors: readonly FactError[] };

/**
 * Validates the assembled snapshot and plans it; explanations are always
 * computed so `/plan?explain=1` can serve them. `faults` (what gathering
 * already isolated) and any part the validation still refuses (taken out
 * here, a few passes at most, since dropping a VM can orphan its in-flight
 * entry) become alerts at the end of the plan; only a snapshot whose shape
 * is wrong plans nothing.
 */
export function planSnapshot(set: CompiledPolicySet, raw: unknown, settings: Omit<PlanSettings, "explain">, faults: readonly FactFault[] = []): PlanOutcome {
  let v = validateFacts(raw);
  const isolated = [...faults];
  for (let pass = 0; !v.ok && pass < 3; pass++) {
    const dropped = dropInvalid(raw, v.errors);
    if (dropped === null) break;
    isolated.push(...dropped.faults);
    raw = dropped.raw;
    v = validateFacts(raw);
  }
  if (!v.ok) return { ok: false, errors: v.errors };
  const plan = planRound(set, v.facts, { ...settings, explain: true });
  if (isolated.length === 0) return { ok: true, facts: v.facts, plan };
  const seen = new Set<string>();
  const alerts = isolated.filter((f) => !seen.has(f.message) && seen.add(f.message)).map(faultAlert);
  return { ok: true, facts: v.facts, plan: { ...plan, actions: [...plan.actions, ...alerts] } };
}

/** The plan without its explanations (`GET /plan` without `?explain=1`). */
export function withoutExplain(plan: Plan): Plan {
  const strip = <T extends PlannedAction | SkippedAction>(x: T): T => {
    if (!("explain" in x) || x.explain === undefined) return x;
    const { explain: _explain, ...rest } = x;
    return rest as T;
  };
  return { ...plan, actions: plan.actions.map(strip), skipped: plan.skipped.map(strip) };
}

/** Host load in percent of capacity (SPEC 1 `host.load`). */
export function hostLoad(cpus: number, vms: readonly { cpu: number }[]): number {
  return cpus > 0 ? vms.reduce((s, v) => s + v.cpu, 0) / cpus : 0;
}

/** One line per round for the log: what was planned, how the hosts stand, how long it took. */
export function roundLine(n: number, facts: Facts, plan: Plan, ms: number, mode: "executed" | "paused" | "dry run"): string {
  const counts: Record<string, number> = {};
  for (const a of plan.actions) counts[a.kind] = (counts[a.kind] ?? 0) + 1;
  const what = Object.keys(counts).length === 0 ? "no actions" : Object.entries(counts).map(([k, c]) => `${c} ${k}`).join(", ");
  const loads = facts.hosts.map((h) => `${h.name} ${h.state === "up" ? `${Math.round(hostLoad(h.cpus, h.vms))}%` : h.state}`).join(", ");
  const extra = [plan.skipped.length ? `${plan.skipped.length} skipped` : "", plan.errors.length ? `${plan.errors.length} errors` : ""].filter(Boolean).join(", ");
  return `round ${n}: ${what}${extra ? ` (${extra})` : ""} in ${ms} ms${mode === "executed" ? "" : `, ${mode}: nothing executed`} | ${loads}`;
}

/** A stable key for an alert, so one that repeats every round is logged and journaled once. */
export function alertKey(a: PlannedAction): string {
  return a.kind === "alert" ? `${a.rule}\u0000${a.message}` : "";
}

/** The hosts part of `/status`: the tracker's view plus the last snapshot's load and the last plan's groups. */
export function hostStatuses(tracker: HostTracker, facts: Facts | null, plan: Plan | null, isFenced: (host: string) => boolean): HostStatus[] {
  const byName = new Map((facts?.hosts ?? []).map((h) => [h.name, h]));
  return tracker.all().map((r) => {
    const f = byName.get(r.cfg.name);
    const groups: Record<string, string> = {};
    for (const [policy, byHost] of Object.entries(plan?.groups ?? {})) if (byHost[r.cfg.name] !== undefined) groups[policy] = byHost[r.cfg.name]!;
    return {
      name: r.cfg.name,
      url: r.cfg.url,
      state: tracker.stateOf(r),
      groups,
      load: f ? hostLoad(f.cpus, f.vms) : 0,
      used: f ? hostLoad(f.cpus, f.vms) + (f.cpus > 0 ? (f.other_cpu ?? 0) / f.cpus : 0) : 0,
      measured: [...(f?.measured ?? r.last?.measured ?? [])],
      vm_count: f?.vms.length ?? r.last?.vms.length ?? 0,
      last_seen: r.lastSeen === null ? null : new Date(r.lastSeen).toISOString(),
      fenced: isFenced(r.cfg.name),
      operator_state: r.operatorState,
    };
  });
}
