/**
 * Isolating faults in gathered facts (SPEC 5, "Gathered facts are isolated,
 * not all-or-nothing"). `vmpolicy plan` refuses a snapshot with any fault,
 * which is right for an operator's file; the engine, assembling a snapshot
 * from many agents, must not let one bad VM or host stop the whole cluster.
 * So the smallest wrong part is taken out (a VM with a bad field, both
 * copies of a VM reported by two hosts, an in-flight entry that no longer
 * fits), the rest is planned, and each fault becomes an alert in the plan.
 * These functions are pure; `gather.ts` and `round.ts` apply them.
 */
import type { FactError, PlannedAction } from "../types.js";

/** One part of the gathered facts left out of a round, and why: becomes an alert. */
export interface FactFault {
  /** `engine.duplicate` (a VM on two hosts) or `engine.facts` (a wrong field). */
  readonly rule: "engine.duplicate" | "engine.facts";
  /** Stable while the fault lasts, so its alert is journaled once. */
  readonly message: string;
}

/** The alert a fault puts in the plan. */
export function faultAlert(f: FactFault): PlannedAction {
  return { kind: "alert", message: f.message, rule: f.rule };
}

/** A VM reported by two (or more) hosts at once. */
export interface DuplicateVm {
  readonly vm: string;
  /** Sorted host names. */
  readonly hosts: readonly string[];
}

export function duplicateFault(d: DuplicateVm): FactFault {
  return {
    rule: "engine.duplicate",
    message: `VM ${d.vm} is reported by ${d.hosts.length === 2 ? "two" : d.hosts.length} hosts: ${d.hosts.join(" and ")}; it is left out of planning (no copy is moved or restarted) until only one host reports it`,
  };
}

/**
 * The wrong VMs of one agent's answer, when only VMs are wrong: index →
 * the problems, with paths relative to the VM (`cpu: must be …`). Null when
 * anything outside a VM is wrong (the answer is refused whole then).
 * `errors` are `validateFacts` errors of a one-host snapshot.
 */
export function vmOnlyErrors(errors: readonly FactError[]): Map<number, string[]> | null {
  const out = new Map<number, string[]>();
  for (const e of errors) {
    const m = /^hosts\[0\]\.vms\[(\d+)\](?:\.?(.*))?$/.exec(e.path);
    if (m === null) return null;
    const at = Number(m[1]);
    out.set(at, [...(out.get(at) ?? []), `${m[2] ? `${m[2]}: ` : ""}${e.message}`]);
  }
  return out;
}

/**
 * Removes from an assembled snapshot the parts that `errors` name, for a
 * fault the tracker did not already isolate: a VM path drops that VM (every
 * VM of that name, when the name is the problem), a host path drops that
 * host, a `migrating` or `recent` entry is dropped. Returns null when an
 * error names no such part (the snapshot's shape itself is wrong).
 */
export function dropInvalid(raw: unknown, errors: readonly FactError[]): { raw: unknown; faults: FactFault[] } | null {
  const snap = raw as { hosts?: unknown; migrating?: unknown; recent?: unknown };
  if (typeof raw !== "object" || raw === null || !Array.isArray(snap.hosts)) return null;
  const hosts = snap.hosts as { name?: unknown; vms?: unknown }[];
  const dropHosts = new Set<number>();
  const dropVms = new Map<number, Set<number>>();
  const dropNames = new Set<string>();
  const dropList = { migrating: new Set<number>(), recent: new Set<number>() };
  const faults: FactFault[] = [];
  const vmName = (h: number, v: number): unknown => (Array.isArray(hosts[h]?.vms) ? (hosts[h]!.vms as { name?: unknown }[])[v]?.name : undefined);
  for (const e of errors) {
    let m: RegExpExecArray | null;
    if ((m = /^hosts\[(\d+)\]\.vms\[(\d+)\](\.name)?/.exec(e.path))) {
      const [h, v] = [Number(m[1]), Number(m[2])];
      const name = vmName(h, v);
      if (m[3] && typeof name === "string") dropNames.add(name);
      else dropVms.set(h, (dropVms.get(h) ?? new Set()).add(v));
      faults.push({ rule: "engine.facts", message: `${typeof name === "string" ? `VM ${name}` : `a VM of host ${String(hosts[h]?.name)}`} is left out of planning: ${e.path}: ${e.message}` });
    } else if ((m = /^hosts\[(\d+)\]/.exec(e.path))) {
      dropHosts.add(Number(m[1]));
      faults.push({ rule: "engine.facts", message: `host ${String(hosts[Number(m[1])]?.name)} is left out of planning: ${e.path}: ${e.message}` });
    } else if ((m = /^(migrating|recent)\[(\d+)\]/.exec(e.path))) {
      dropList[m[1] as "migrating" | "recent"].add(Number(m[2]));
    } else return null;
  }
  const keptHosts = hosts.flatMap((h, i) => {
    if (dropHosts.has(i)) return [];
    if (!Array.isArray(h.vms)) return [h];
    return [{ ...h, vms: (h.vms as { name?: unknown }[]).filter((v, j) => !dropVms.get(i)?.has(j) && !(typeof v?.name === "string" && dropNames.has(v.name))) }];
  });
  const keep = (list: unknown, drop: Set<number>): unknown => (Array.isArray(list) ? list.filter((_, i) => !drop.has(i)) : list);
  return { raw: { ...snap, hosts: keptHosts, migrating: keep(snap.migrating, dropList.migrating), recent: keep(snap.recent, dropList.recent) }, faults };
}
