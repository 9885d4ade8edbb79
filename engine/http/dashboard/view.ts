/**
 * What the dashboard shows beyond `/status`, `/plan` and `/decisions`: the
 * cluster as the engine last saw it (every host with its VMs, the actions
 * in flight, the restarts waiting for a fence) and the load history. The
 * engine provides it through `DashboardSource`; the HTTP layer only
 * serialises it, so `http/` still knows nothing of `run/`.
 */
import type { HostStateName } from "../../types.js";

export interface ClusterVm {
  readonly name: string;
  /** Percent of one CPU, as the facts report it (SPEC 1). */
  readonly cpu: number;
  /** MiB. */
  readonly mem: number;
  readonly pinned: boolean;
}

export interface ClusterHost {
  readonly name: string;
  readonly state: HostStateName;
  readonly cpus: number;
  /** MiB for guests. */
  readonly mem: number;
  /** MiB the VMs take. */
  readonly mem_used: number;
  /** Percent of capacity: the VMs' CPU over the host's CPUs (SPEC 1 `host.load`). */
  readonly load: number;
  /** The host's measured CPU use in percent, when its agent reports `used`. */
  readonly used?: number;
  readonly vms: readonly ClusterVm[];
}

/** A migration or restart the engine issued and has not seen end. */
export interface ClusterFlight {
  readonly kind: "migrate" | "restart";
  readonly vm: string;
  readonly from: string;
  readonly to: string;
  readonly rule: string;
  /** ISO time it was issued. */
  readonly started_at: string;
  /** 0…1 when the agent reports it. */
  readonly progress?: number;
}

/** A down host whose VMs are not restarted until it is fenced. */
export interface FenceWait {
  readonly host: string;
  readonly vms: readonly string[];
  readonly reason: string;
}

export interface ClusterView {
  readonly hosts: readonly ClusterHost[];
  readonly flights: readonly ClusterFlight[];
  readonly fence_waits: readonly FenceWait[];
}

/** A migration or restart on the load chart. */
export interface HistoryMark {
  /** Unix seconds it was issued. */
  readonly t: number;
  readonly kind: "migrate" | "restart";
  readonly vm: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Load history in columns: `t` (Unix seconds, one per recorded round) and,
 * per host, its load at each `t` (null where it had none).
 */
export interface LoadHistoryPart {
  readonly t: readonly number[];
  readonly hosts: Readonly<Record<string, readonly (number | null)[]>>;
  readonly marks: readonly HistoryMark[];
}

/** What the engine gives the dashboard (the `run` command passes it to the HTTP API). */
export interface DashboardSource {
  cluster(): ClusterView;
  /** Points recorded after `afterT` (Unix seconds; all of the last hour when omitted). */
  history(afterT?: number): LoadHistoryPart;
  /** Calls `listener` whenever what the page shows may have changed; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}
