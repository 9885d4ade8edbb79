/**
 * The contract between the engine's core (`engine/run/engine.ts`: rounds,
 * journal, reload, fencing) and its front ends (`engine/http/server.ts`, the
 * `run` command, signal handlers). The HTTP layer only validates requests
 * and calls these methods; it never touches the loop's state directly.
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { HostStateName, Plan, PlannedAction } from "../types.js";

/** A VM going back and forth between hosts (SPEC 12), while its episode lasts. */
export interface PingPongStatus {
  readonly vm: string;
  /** The hosts it went back and forth between, by name. */
  readonly hosts: readonly string[];
  /** The rule that moved it back last. */
  readonly rule: string;
  /** Returns in this episode. */
  readonly returns: number;
  /** ISO time of the last return. */
  readonly last_at: string;
}

export interface PolicyInfo {
  readonly name: string;
  readonly file: string;
  /** sha256 of the file's text. */
  readonly hash: string;
  /** ISO time the running set was loaded. */
  readonly loaded_at: string;
}

export interface ReloadError {
  readonly at: string;
  readonly diagnostics: readonly Diagnostic[];
}

export interface HostStatus {
  readonly name: string;
  readonly url: string;
  readonly state: HostStateName;
  /** The group per policy, e.g. `{ cslb: "heavy" }`. */
  readonly groups: Readonly<Record<string, string>>;
  readonly load: number;
  /** (sum(vm.cpu) + other_cpu) / cpus: `load` plus what runs outside the VMs, where measured. */
  readonly used: number;
  /** Which facts its agent measured (`cpu`, `other_cpu`, `mem_avail`); [] where it said nothing. */
  readonly measured: readonly string[];
  readonly vm_count: number;
  /** ISO time of the last answer from its agent, or null. */
  readonly last_seen: string | null;
  readonly fenced: boolean;
  /** Set by an operator (`PUT /hosts/NAME/state`), overriding what the agent reports. */
  readonly operator_state: "maintenance" | null;
}

export interface RoundSummary {
  readonly at: string;
  readonly duration_ms: number;
  readonly actions: number;
  readonly skipped: number;
  readonly errors: number;
  readonly executed: boolean;
}

export interface EngineStatus {
  readonly hosts: readonly HostStatus[];
  readonly policies: readonly PolicyInfo[];
  readonly last_round: RoundSummary | null;
  readonly paused: boolean;
  readonly dry_run: boolean;
  readonly reload_error: ReloadError | null;
  /** VMs migrated back to a host they left within `pingpong_window`, while the episode lasts. */
  readonly pingpong: readonly PingPongStatus[];
  /** The shadow set (SPEC 10), or null when none is configured (absent from engines without one). */
  readonly shadow?: ShadowStatus | null;
  /** VMs that two or more hosts report at once: left out of planning while it lasts (SPEC 5). */
  readonly duplicate_vms?: readonly { readonly vm: string; readonly hosts: readonly string[] }[];
  /**
   * VMs the engine knows of that run on no host that answers: on a down
   * host that is fenced (powered off) or lost in a restart (SPEC 5).
   */
  readonly vms_nowhere?: readonly { readonly vm: string; readonly host: string; readonly reason: string }[];
}

/** The shadow set's part of `/status` (SPEC 10): planned every round beside the active set, never executed. */
export interface ShadowStatus {
  /** The files and folders it is loaded from. */
  readonly paths: readonly string[];
  /** Its policies as last loaded (empty until it loads). */
  readonly policies: readonly PolicyInfo[];
  /** sha256 of the loaded set's files, or null while none is loaded. */
  readonly hash: string | null;
  /** The last rejected reload while it stands (the previous shadow set keeps planning). */
  readonly reload_error: ReloadError | null;
  readonly rounds_compared: number;
  /** Rounds whose shadow actions differ from the active ones (compared by what they do, not by rule). */
  readonly rounds_differing: number;
  readonly last_difference: {
    readonly round: number;
    readonly at: string;
    readonly only_active: readonly PlannedAction[];
    readonly only_shadow: readonly PlannedAction[];
  } | null;
}

/** One journal line (JSON lines, fsynced), as `/decisions` returns it. */
export interface JournalEntry {
  /** Unique per action; the `end` line repeats the `start` line's id. */
  readonly id: string;
  readonly phase: "start" | "end";
  readonly at: string;
  /** `promote`: an operator made the shadow set the active one (SPEC 10). */
  readonly kind: "migrate" | "restart" | "alert" | "promote";
  readonly vm?: string;
  readonly from?: string;
  readonly to?: string;
  readonly message?: string;
  readonly rule: string;
  /** On `end`: how it ended. */
  readonly outcome?: "completed" | "failed" | "lost";
  readonly error?: string;
  /** On `start` of a migration: the id the source agent gave it, for reconciliation. */
  readonly agent_id?: string;
}

export type ReloadResult =
  | { readonly ok: true; readonly policies: readonly PolicyInfo[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Thrown (as a value the HTTP layer maps to 404/400) when a request names something unknown. */
export class EngineRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface EngineControl {
  status(): EngineStatus;
  /** The last plan of the active set, or with `set: "shadow"` of the shadow set (null when there is none). */
  lastPlan(options?: { explain?: boolean; set?: "active" | "shadow" }): Plan | null;
  /** Newest first. */
  decisions(limit: number): Promise<readonly JournalEntry[]>;
  /** Checks and swaps in the policy set; EngineRequestError(409) before the engine has started or once it is stopping. */
  reload(): Promise<ReloadResult>;
  pause(): void;
  resume(): void;
  /** Plans (and unless paused/dry-run executes) a round now; waits if one is running. */
  runRound(): Promise<RoundSummary>;
  /** `maintenance` or `up` from an operator; EngineRequestError(404) for an unknown host. */
  setHostState(host: string, state: "maintenance" | "up"): void;
  /** An operator's confirmation that a down host is powered off. */
  confirmFenced(host: string): void;
  /** Makes the shadow set the active one between rounds (journaled); EngineRequestError(409) when no shadow set is loaded. */
  promoteShadow(): Promise<{ readonly policies: readonly PolicyInfo[] }>;
  /** Drops the shadow set; EngineRequestError(404) when there is none. */
  dropShadow(): Promise<void>;
}
