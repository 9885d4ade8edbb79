/**
 * Destination choice for `evacuate` and `recover` (SPEC 2.6, 2.7): the `up`
 * host other than the source with the lowest projected load (ties by name)
 * that has the memory, is under `max_per_host` and satisfies every
 * constraint. One linear scan per VM: constraints (user code) run only on a
 * host that would beat the best found so far, which gives exactly the host
 * that "try the best, then the next best" would give, without a sort.
 */
import type { HostNode, VmNode } from "./cluster.js";
import { constraintRefusal, fmtNumber, type Limits } from "./refusals.js";
import type { PlacementConstraint } from "../../grammar/view.js";

/** A constraint refusal met on the way to the chosen host. */
export interface RefusedHost {
  readonly host: HostNode;
  readonly constraint: string;
  readonly reason: string;
}

export interface PlacementResult {
  /** The chosen destination, or null when none fits. */
  readonly host: HostNode | null;
  /** Hosts that would have been better but a constraint refused, best first. */
  readonly refused: readonly RefusedHost[];
  /** When `host` is null: why nothing fits. */
  readonly why: string;
}

/** Picks the destination for `vm` leaving `source`. */
export function chooseDestination(
  vm: VmNode,
  source: HostNode,
  hosts: readonly HostNode[],
  limits: Limits,
  constraints: readonly PlacementConstraint[],
): PlacementResult {
  let best: HostNode | null = null;
  let up = 0;
  let lackMemory = 0;
  let atLimit = 0;
  const refused: RefusedHost[] = [];
  const needs = vm.mem;
  const max = limits.max_per_host;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i]!;
    if (h === source || h.state !== "up") continue;
    up++;
    if (needs > h.mem_free) {
      lackMemory++;
      continue;
    }
    if (h.moves >= max) {
      atLimit++;
      continue;
    }
    // Hosts come in name order, so `<` keeps the earlier name on a tie.
    if (best !== null && !(h.load < best.load)) continue;
    const r = constraints.length === 0 ? null : constraintRefusal(vm, h, constraints);
    if (r === null) best = h;
    else refused.push({ host: h, constraint: r.constraint!, reason: r.reason });
  }
  const better = refused.filter((r) => best === null || lessLoaded(r.host, best));
  better.sort((a, b) => (lessLoaded(a.host, b.host) ? -1 : 1));
  if (best !== null) return { host: best, refused: better, why: "" };
  return { host: null, refused: better, why: noDestination(vm, up, lackMemory, atLimit, refused, max) };
}

function lessLoaded(a: HostNode, b: HostNode): boolean {
  return a.load < b.load || (a.load === b.load && a.index < b.index);
}

function noDestination(
  vm: VmNode,
  up: number,
  lackMemory: number,
  atLimit: number,
  refused: readonly RefusedHost[],
  max: number,
): string {
  const mem = fmtNumber(vm.mem);
  if (up === 0) return "no destination: no other host is up";
  if (lackMemory === up) return `no destination: no up host has ${mem} MiB free`;
  const parts: string[] = [];
  if (lackMemory > 0) parts.push(`${lackMemory} lack${lackMemory === 1 ? "s" : ""} ${mem} MiB free`);
  if (atLimit > 0) parts.push(`${atLimit} ${atLimit === 1 ? "is" : "are"} at max_per_host ${max}`);
  if (refused.length > 0) {
    const names = [...new Set(refused.map((r) => r.constraint))].join(", ");
    parts.push(`${refused.length} break${refused.length === 1 ? "s" : ""} constraint ${names}`);
  }
  return `no destination: of ${up} other up host${up === 1 ? "" : "s"}, ${parts.join(", ")}`;
}
