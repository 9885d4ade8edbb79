/**
 * What a policy may see and what it produces: the projected cluster of one
 * round as compiled closures see it (`HostView`, `VmView`), the operations
 * that plan actions (`RoundState`) and the plan they build (`Plan`). The
 * language owns this contract; the planner core (`engine/plan/round.ts`)
 * implements it and knows nothing of the language, and the compiler knows
 * nothing of how refusals are decided. Imports nothing from `engine/`. Both sides are hot paths: fields are
 * plain properties or cheap getters, never allocations.
 */
import type { HostStateName } from "./types.js";

/** A JSON rendering of a language value: hosts and VMs by name, none as null. */
export type JsonValue = number | string | boolean | null | JsonValue[];

/** `--explain`: what led to an action or a skip. */
export interface Explanation {
  /** The `for each` element, by its name in the rule (`src`), as a JSON value. */
  readonly binding: Readonly<Record<string, JsonValue>>;
  /** The rule's `let` values at the time of the action, in order. */
  readonly lets: Readonly<Record<string, JsonValue>>;
}

export type PlannedAction =
  | { readonly kind: "migrate"; readonly vm: string; readonly from: string; readonly to: string; readonly rule: string; readonly explain?: Explanation }
  | { readonly kind: "restart"; readonly vm: string; readonly from: string; readonly to: string; readonly rule: string; readonly explain?: Explanation }
  | { readonly kind: "alert"; readonly message: string; readonly rule: string; readonly explain?: Explanation };

/**
 * A refused action. `kind` is what would have been planned (`migrate`,
 * `restart`, `evacuate`, `recover`, `alert`); `vm`, `host`, `from`, `to` are
 * present where known; `constraint` names the constraint that refused it.
 */
export interface SkippedAction {
  readonly kind: "migrate" | "restart" | "evacuate" | "recover" | "alert";
  readonly vm?: string;
  readonly host?: string;
  readonly from?: string;
  readonly to?: string;
  readonly rule: string;
  readonly reason: string;
  readonly constraint?: string;
  readonly explain?: Explanation;
}

export interface PlanError {
  readonly rule: string;
  readonly message: string;
}

export interface Plan {
  readonly actions: PlannedAction[];
  readonly skipped: SkippedAction[];
  readonly errors: PlanError[];
  /** Per policy, per host: the group at the start of the round (hosts with no group are left out). */
  readonly groups: Record<string, Record<string, string>>;
  /** Per policy: its params and top-level lets, in declaration order. */
  readonly values: Record<string, Record<string, JsonValue>>;
}


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
  /** Measured CPU outside the VMs, percent of one CPU; 0 where the agent does not measure it. */
  readonly other_cpu: number;
  /** (sum(vm.cpu) + other_cpu) / cpus, projected: everything running on the host. */
  readonly used: number;
  readonly mem_used: number;
  /** min(mem − mem_used, mem_avail) where mem_avail was measured, else mem − mem_used; projected. */
  readonly mem_free: number;
  /** Measured MiB a new guest can get, projected (less what planned moves bring, plus what they take away); mem − mem_used where not measured. */
  readonly mem_avail: number;
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
  /** Level changes of its CPU per hour (SPEC 1, engine-derived; 0 where none are counted). */
  readonly cpu_changes: number;
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
