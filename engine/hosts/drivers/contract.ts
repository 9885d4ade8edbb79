/**
 * The hypervisor driver interface behind a host agent (SPEC 6). The agent's
 * HTTP layer validates requests and calls these methods; each driver (`sim`,
 * `qemu`, `xl`, `virsh`) maps them to its hypervisor. Kept small
 * on purpose: facts, start/poll a live migration, restart a lost VM from
 * shared storage, and accept an incoming VM from a peer agent (with an
 * optional preparation step for hypervisors that need one).
 *
 * Room `engine/hosts/`: what runs on or talks to a hypervisor host (drivers,
 * the agent's server, the engine's agent client). Imports nothing from the
 * planner: only the shared `engine/*.ts` and the HTTP error helpers.
 */
import type { HostFact, VmFact } from "../../types.js";

/** One VM as the agent reports it in `GET /facts` (SPEC 1, without what the engine derives: `cpu_avg`, `cpu_changes`). */
export type AgentVmFact = Omit<VmFact, "cpu_avg" | "cpu_changes">;

/** `GET /facts`: this host's part of a snapshot (SPEC 1, one `hosts[]` entry), its VMs as the agent reports them. */
export interface AgentFacts extends Omit<HostFact, "vms"> {
  readonly vms: readonly AgentVmFact[];
}

/** One guest of a host's initial configuration (the sim and qemu drivers, `--vms`, a sim host file). */
export interface GuestSpec {
  readonly name: string;
  /** MiB. */
  readonly mem: number;
  /** Default 1. */
  readonly vcpus?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly pinned?: boolean;
  /** Busy at start: sim, every vCPU wants `busyDemand` (default true); qemu, a spinning guest, one vCPU at 100% (default false). */
  readonly busy?: boolean;
}

/** The destination of a live migration, as `POST /migrations` names it. */
export interface MigrationTarget {
  readonly name: string;
  readonly url: string;
}

export type OperationState = "running" | "completed" | "failed";

/** How a migration or restart stands (`GET /migrations/ID`, `GET /restarts/ID`). */
export interface OperationStatus {
  readonly state: OperationState;
  readonly error?: string;
  /** While running, where the hypervisor reports it (virsh: `domjobinfo`): elapsed_ms, processed_mib, remaining_mib, total_mib. */
  readonly progress?: Readonly<Record<string, number>>;
}

/**
 * What moves between agents and what shared storage holds: enough to start
 * the VM elsewhere. `host` is where it last ran; `extra` carries
 * driver-specific fields (the sim driver's workload state) untouched.
 */
export interface VmDefinition {
  readonly name: string;
  readonly mem: number;
  readonly vcpus: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  readonly host: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Given to a driver by `startAgent`: how to reach peer agents and where to log. */
export interface AgentContext {
  /** The agent's own base URL. */
  readonly url: string;
  /** The bearer token peer agents expect (the cluster shares one). */
  readonly token?: string;
  readonly log: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
}

/**
 * A driver's context before and after the agent binds it: what the driver
 * logs before (start-up's adoptions and refusals) is kept and passed to the
 * agent's log at `bind`, so nothing said while starting is lost.
 */
export class PendingContext {
  private readonly early: Parameters<AgentContext["log"]>[] = [];
  current: AgentContext = { url: "", log: (...entry) => void this.early.push(entry) };

  bind(context: AgentContext): void {
    this.current = context;
    for (const entry of this.early.splice(0)) context.log(...entry);
  }
}

/**
 * A refusal the HTTP layer maps to its status (404 unknown VM or id, 409
 * conflict such as "already migrating" or "not enough memory", 422 an
 * unknown or unreachable destination host, 400 bad request). The message is shown to the caller as is, so it must say what
 * is wrong and name the VM or host.
 */
export class DriverError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 422 | 503,
    message: string,
  ) {
    super(message);
    this.name = "DriverError";
  }
}

/** A hypervisor as the host agent sees it. Methods refuse by throwing `DriverError`. */
export interface Driver {
  /** `sim`, `qemu`, `xl`, `virsh`: shown in logs and `/healthz`. */
  readonly kind: string;
  /** The host's name as it reports it in facts. */
  readonly name: string;
  /** Called once by `startAgent` when the server listens. */
  bind(context: AgentContext): void;
  facts(): Promise<AgentFacts>;
  /** Starts a live migration of `vm` to `to`; resolves to an id at once, the copy goes on in the background. */
  startMigration(vm: string, to: MigrationTarget): Promise<string>;
  /** Undefined for an id this agent never issued (or has forgotten). */
  migrationStatus(id: string): OperationStatus | undefined;
  /** Starts `vm`, lost with host `from`, here from shared storage. */
  restart(vm: string, from: string): Promise<{ readonly id: string; readonly status: OperationStatus }>;
  restartStatus(id: string): OperationStatus | undefined;
  /** A peer agent hands over a migrated VM (`POST /incoming`); refuse with 409 when it cannot run here. */
  acceptIncoming(definition: VmDefinition, from: string): Promise<void>;
  /**
   * Destination side, for hypervisors that must be ready before the copy
   * starts (QEMU's `-incoming`): reserves the VM here and returns what the
   * source needs, e.g. `{ uri: "tcp:10.0.0.2:49152" }` (`POST /incoming/prepare`).
   * Drivers without it (the sim) copy first and hand over at the end.
   */
  prepareIncoming?(definition: VmDefinition, from: string): Promise<Record<string, unknown>>;
  /** Undoes `prepareIncoming` after a failed migration (`POST /incoming/abort`). */
  abortIncoming?(vm: string, from: string): Promise<void>;
  /** Stops timers and in-flight work. */
  close(): Promise<void>;
}
