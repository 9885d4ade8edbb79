/**
 * The contract between the engine's core (`engine/run/engine.ts`: rounds,
 * journal, reload, fencing) and its front ends (`engine/http/server.ts`, the
 * `run` command, signal handlers). The HTTP layer only validates requests
 * and calls these methods; it never touches the loop's state directly.
 */
import type { Diagnostic } from "../../grammar/diagnostics.js";
import type { HostStateName, Plan } from "../types.js";

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
  /** VMs that two or more hosts report at once: left out of planning while it lasts (SPEC 5). */
  readonly duplicate_vms?: readonly { readonly vm: string; readonly hosts: readonly string[] }[];
  /**
   * VMs the engine knows of that run on no host that answers: on a down
   * host that is fenced (powered off) or lost in a restart (SPEC 5).
   */
  readonly vms_nowhere?: readonly { readonly vm: string; readonly host: string; readonly reason: string }[];
}

/** One journal line (JSON lines, fsynced), as `/decisions` returns it. */
export interface JournalEntry {
  /** Unique per action; the `end` line repeats the `start` line's id. */
  readonly id: string;
  readonly phase: "start" | "end";
  readonly at: string;
  readonly kind: "migrate" | "restart" | "alert";
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
  lastPlan(options?: { explain?: boolean }): Plan | null;
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
}
