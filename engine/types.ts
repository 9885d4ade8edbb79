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
  /** CPU the VM gets, in percent of one logical CPU. */
  readonly cpu: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  /** Smoothed CPU; equals `cpu` when the snapshot carries none. */
  readonly cpu_avg: number;
  /** Level changes of its CPU per hour, counted by the engine; 0 when the snapshot carries none. */
  readonly cpu_changes: number;
}

export interface HostFact {
  readonly name: string;
  readonly state: HostStateName;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly vms: readonly VmFact[];
  /** Measured: CPU used on the host outside its VMs, percent of one logical CPU (SPEC 1); absent where not measured. */
  readonly other_cpu?: number;
  /** Measured: MiB a new guest can get now; absent where not measured. */
  readonly mem_avail?: number;
  /** Which fields the agent measured; absent where it said nothing. */
  readonly measured?: readonly MeasuredFieldName[];
}

/** The fields an agent may report as measured (SPEC 1 `host.measured`). */
export const MEASURED_FIELDS = ["cpu", "other_cpu", "mem_avail"] as const;
export type MeasuredFieldName = (typeof MEASURED_FIELDS)[number];

export interface MigrationFact {
  readonly vm: string;
  readonly from: string;
  readonly to: string;
}

export interface RecentFact {
  readonly vm: string;
  readonly seconds_ago: number;
}

/** A snapshot that passed validation (see `engine/plan/facts.ts`). */
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

// The plan is what compiled policies produce, so the language side owns its shape.
export type { JsonValue, Explanation, PlannedAction, SkippedAction, PlanError, Plan } from "../grammar/view.js";

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
