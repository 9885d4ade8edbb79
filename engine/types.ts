/**
 * The shapes that cross the engine's boundaries: a validated facts snapshot
 * (SPEC 1), the plan of one round (SPEC 3), the planner's settings, and the
 * compiled policy set that `planRound` consumes. The engine loop, the `plan`
 * command and the simulator all speak these types.
 */
import type { HostStateName } from "../grammar/types.js";

export type { HostStateName } from "../grammar/types.js";

// ---------------------------------------------------------------- facts (SPEC 1)

export interface VmFact {
  readonly name: string;
  readonly cpu: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  /** Smoothed CPU; equals `cpu` when the snapshot carries none. */
  readonly cpu_avg: number;
}

export interface HostFact {
  readonly name: string;
  readonly state: HostStateName;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly vms: readonly VmFact[];
}

export interface MigrationFact {
  readonly vm: string;
  readonly from: string;
  readonly to: string;
}

export interface RecentFact {
  readonly vm: string;
  readonly seconds_ago: number;
}

/** A snapshot that passed validation (see `engine/facts.ts`). */
export interface Facts {
  readonly hosts: readonly HostFact[];
  readonly migrating: readonly MigrationFact[];
  readonly recent: readonly RecentFact[];
}

/** One problem in a snapshot, e.g. `{ path: "hosts[2].vms[0].cpu", message: "must be a finite number ≥ 0" }`. */
export interface FactError {
  readonly path: string;
  readonly message: string;
}

// ---------------------------------------------------------------- plan (SPEC 3)

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

// ---------------------------------------------------------------- settings

export interface ScriptLimits {
  /** Bytes of memory per QuickJS runtime (default 32 MiB). */
  readonly memoryBytes: number;
  /** Milliseconds per script call (default 50). */
  readonly callMs: number;
  /** Milliseconds for all script calls of one policy in one round (default 500). */
  readonly roundMs: number;
}

export const DEFAULT_SCRIPT_LIMITS: ScriptLimits = { memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 500 };

export interface PlanSettings {
  /** Seconds since a VM's last migration before it may move again (default 60). */
  readonly cooldown: number;
  /** Migrations and restarts a host may take part in at once, planned or in flight (default 2). */
  readonly max_per_host: number;
  /** Actions (migrations and restarts) per round (default 16). */
  readonly max_per_round: number;
  /**
   * When true (the engine), a `recover` of a down host that is not in
   * `fenced` plans an alert instead of restarts: two copies of one VM on
   * shared storage would corrupt its disk. When false (`vmpolicy plan`, the
   * simulator), restarts are planned as if the host were fenced.
   */
  readonly requireFencing: boolean;
  readonly fenced: ReadonlySet<string>;
  /** Adds `explain` to every action and skip. */
  readonly explain: boolean;
}

export const DEFAULT_PLAN_SETTINGS: PlanSettings = {
  cooldown: 60,
  max_per_host: 2,
  max_per_round: 16,
  requireFencing: false,
  fenced: new Set(),
  explain: false,
};
