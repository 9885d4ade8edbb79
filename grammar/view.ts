/**
 * The contract between compiled policies and the planner core: the projected
 * cluster of one round as compiled closures see it (`HostView`, `VmView`) and
 * the operations that plan actions (`RoundState`). The core
 * (`engine/round.ts`) knows nothing of the language; the compiler knows
 * nothing of how refusals are decided. Both sides are hot paths: fields are
 * plain properties or cheap getters, never allocations.
 */
import type { Explanation, HostStateName, Plan, PlanError, SkippedAction } from "./types.js";

/** A host in the projected cluster: every derived field reflects the actions planned so far. */
export interface HostView {
  readonly name: string;
  readonly state: HostStateName;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Its VMs in the projected cluster (a VM planned to move here counts here). */
  readonly vms: readonly VmView[];
  /** sum(vm.cpu) / cpus, projected. */
  readonly load: number;
  /** sum(vm.cpu_avg) / cpus, projected. */
  readonly load_avg: number;
  readonly mem_used: number;
  readonly mem_free: number;
  readonly vm_count: number;
  /** Source or destination of a migration or restart planned this round or in flight. */
  readonly busy: boolean;
  /** Position in `RoundState.hosts` (hosts sorted by name); handy for per-policy side arrays. */
  readonly index: number;
}

export interface VmView {
  readonly name: string;
  readonly cpu: number;
  readonly cpu_avg: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  /** In flight at the start of the round (from the snapshot's `migrating`). */
  readonly migrating: boolean;
  /** The host it runs on in the projected cluster. */
  readonly host: HostView;
  /** cpu / host.cpus, projected. */
  readonly load: number;
  /** Position in `RoundState.vms` (VMs sorted by name). */
  readonly index: number;
}

/**
 * Where an action comes from: the qualified rule name (`cslb.balance`) and,
 * when `--explain` is on, a thunk that renders the binding and lets (only
 * called when needed, so explaining costs nothing when off).
 */
export interface ActionOrigin {
  readonly rule: string;
  readonly explain?: () => Explanation;
}

/**
 * A placement constraint of the set (SPEC 2.7), compiled. `allows` answers
 * for `vm` placed on `host` in the projected cluster before the placement.
 * `name` is what a skip reports (`policy.constraint`).
 */
export interface PlacementConstraint {
  readonly name: string;
  allows(vm: VmView, host: HostView): boolean;
}

/** The planner core of one round: the projected cluster and the operations that change it. */
export interface RoundState {
  /** All hosts, sorted by name. */
  readonly hosts: readonly HostView[];
  /** All VMs, sorted by name. */
  readonly vms: readonly VmView[];
  hostByName(name: string): HostView | undefined;
  vmByName(name: string): VmView | undefined;

  /** Why `migrate vm to host` would be refused right now, or null if it would be planned. */
  refusal(vm: VmView, host: HostView): string | null;
  /** `can_move(vm, host)`: exactly `refusal(vm, host) === null`. */
  canMove(vm: VmView, host: HostView): boolean;

  /** Plans a live migration, or lists it under `skipped` with the reason. Returns whether it was planned. */
  migrate(vm: VmView, to: HostView, origin: ActionOrigin): boolean;
  /** Migrates each movable VM of `host` (largest mem first) to the best up host; see SPEC 2.6. */
  evacuate(host: HostView, origin: ActionOrigin): void;
  /** Restarts each VM of a down `host` elsewhere (or alerts while it is not fenced). */
  recover(host: HostView, origin: ActionOrigin): void;
  alert(message: string, origin: ActionOrigin): void;
  /** Lists an action that could not be formed (its VM or host was none, a wrong-typed value, …). */
  skip(skipped: SkippedAction): void;
  error(error: PlanError): void;

  /** True once `max_per_round` actions are planned. */
  readonly full: boolean;
  /** The plan so far; `groups` and `values` are filled in by the caller. */
  result(): Pick<Plan, "actions" | "skipped" | "errors">;
}
