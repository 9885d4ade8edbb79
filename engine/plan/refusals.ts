/**
 * Every refusal of SPEC 2.6, in one fixed order, with its reason text. The
 * order and the texts are documented in docs/planner.md; `can_move`,
 * `migrate`, `evacuate` and `recover` all decide through these functions so
 * they can never disagree.
 */
import type { HostNode, VmNode } from "./cluster.js";
import type { PlacementConstraint } from "../../grammar/view.js";
import type { PlannedAction } from "../types.js";

/** A refusal: the reason a skip reports, and the constraint's name when a constraint refused. */
export interface Refusal {
  readonly reason: string;
  readonly constraint?: string;
}

/** The limits the checks need (a subset of `PlanSettings`). */
export interface Limits {
  readonly cooldown: number;
  readonly max_per_host: number;
  readonly max_per_round: number;
}

/** Numbers in reasons: integers as is, others to two decimals (`1023.5`), so texts stay short and stable. */
export function fmtNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Math.round(n * 100) / 100);
}

// ---------------------------------------------------------------- reason texts

export const reasons = {
  alreadyPlanned(action: PlannedAction): string {
    if (action.kind === "alert") return "already has an action this round";
    return `already has an action this round: ${action.kind} from ${action.from} to ${action.to} (${action.rule})`;
  },
  pinned: (): string => "vm is pinned",
  migrating(vm: VmNode): string {
    const m = vm.inFlight;
    return m === null ? "vm is migrating" : `vm is migrating from ${m.from} to ${m.to}`;
  },
  cooldown: (secondsAgo: number, cooldown: number): string =>
    `migrated ${fmtNumber(secondsAgo)} s ago, cooldown is ${fmtNumber(cooldown)} s`,
  sourceDown: (source: string): string => `source ${source} is down: its VMs are restarted by recover, not migrated`,
  notUp: (host: HostNode): string => `destination ${host.name} is not up (${host.state})`,
  isSource: (vm: VmNode): string => `destination is the source: ${vm.name} already runs on ${vm.host.name}`,
  lacksMemory: (needs: number, has: number): string =>
    `destination lacks memory: needs ${fmtNumber(needs)} MiB, has ${fmtNumber(has)}`,
  hostLimit: (role: "source" | "destination", host: HostNode, max: number): string =>
    `${role} ${host.name} already takes part in ${host.moves} migration${host.moves === 1 ? "" : "s"} or restart${host.moves === 1 ? "" : "s"} (max_per_host is ${max})`,
  roundFull: (max: number): string => `round is full: ${max} action${max === 1 ? "" : "s"} planned (max_per_round is ${max})`,
  constraint: (name: string): string => `breaks constraint ${name}`,
  migratingToLostHost(vm: VmNode): string {
    const m = vm.inFlight!;
    return `vm is migrating from ${m.from} to ${m.to}: it may still run on ${m.from}, so it is not restarted`;
  },
  evacuateDown: (host: HostNode): string => `host ${host.name} is down: its VMs are restarted by recover, not migrated`,
  recoverNotDown: (host: HostNode): string =>
    `host ${host.name} is ${host.state}, not down: recover restarts the VMs of a lost host only`,
  waitsForFencing: (host: HostNode, count: number): string =>
    `host ${host.name} is down and not fenced: ${count} VM${count === 1 ? " waits" : "s wait"} for fencing`,
};

// ---------------------------------------------------------------- checks, in order

/**
 * Refusals that concern the VM alone (1–5 of the order), for a live
 * migration: an action already planned, pinned, migrating, cooling down,
 * its host is down.
 */
export function vmRefusal(vm: VmNode, limits: Limits): Refusal | null {
  if (vm.planned !== null) return { reason: reasons.alreadyPlanned(vm.planned) };
  if (vm.pinned) return { reason: reasons.pinned() };
  if (vm.migrating) return { reason: reasons.migrating(vm) };
  if (vm.secondsAgo < limits.cooldown) return { reason: reasons.cooldown(vm.secondsAgo, limits.cooldown) };
  if (vm.host.state === "down") return { reason: reasons.sourceDown(vm.host.name) };
  return null;
}

/** Refusals that concern the destination's state and capacity (6–8). */
export function destinationRefusal(vm: VmNode, host: HostNode): Refusal | null {
  if (host.state !== "up") return { reason: reasons.notUp(host) };
  if (host === vm.host) return { reason: reasons.isSource(vm) };
  if (vm.mem > host.mem_free) return { reason: reasons.lacksMemory(vm.mem, host.mem_free) };
  return null;
}

/** The `max_per_host` refusal of one end (9, 10). */
export function hostLimitRefusal(role: "source" | "destination", host: HostNode, limits: Limits): Refusal | null {
  return host.moves >= limits.max_per_host ? { reason: reasons.hostLimit(role, host, limits.max_per_host) } : null;
}

/** The round-full refusal (11). */
export function roundRefusal(planned: number, limits: Limits): Refusal | null {
  return planned >= limits.max_per_round ? { reason: reasons.roundFull(limits.max_per_round) } : null;
}

/** The first constraint (in the set's order) that refuses `vm` on `host` (12): user code, so checked last. */
export function constraintRefusal(
  vm: VmNode,
  host: HostNode,
  constraints: readonly PlacementConstraint[],
): Refusal | null {
  for (let i = 0; i < constraints.length; i++) {
    const c = constraints[i]!;
    if (!c.allows(vm, host)) return { reason: reasons.constraint(c.name), constraint: c.name };
  }
  return null;
}

/** The whole order for `migrate vm to host`: the first refusal that applies, or null. */
export function migrateRefusal(
  vm: VmNode,
  host: HostNode,
  planned: number,
  limits: Limits,
  constraints: readonly PlacementConstraint[],
): Refusal | null {
  return (
    vmRefusal(vm, limits) ??
    destinationRefusal(vm, host) ??
    hostLimitRefusal("source", vm.host, limits) ??
    hostLimitRefusal("destination", host, limits) ??
    roundRefusal(planned, limits) ??
    constraintRefusal(vm, host, constraints)
  );
}
