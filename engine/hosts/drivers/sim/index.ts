/**
 * The `sim` driver: an in-process hypervisor host for demos and tests. It
 * models capacity (`cpus`, `mem`), VMs whose CPU demand changes over time
 * (`SimWorkload`), fair sharing when overcommitted (a VM reports what it
 * gets, not what it wants), live migration that takes time proportional to
 * memory and hands the VM to the destination agent over HTTP, and restarts
 * from a shared storage folder. Several sim agents on loopback form a
 * working cluster the engine can balance.
 */
import { randomUUID } from "node:crypto";
import { AgentClient } from "../../client.js";
import { compareNames } from "../../../names.js";
import type { HostStateName } from "../../../types.js";
import { type AgentContext, type AgentFacts, type Driver, DriverError, type GuestSpec, type MigrationTarget, type OperationStatus, PendingContext, type VmDefinition } from "../contract.js";
import { type OperationEntry, OperationLog } from "../operations.js";
import { type Clock, systemClock } from "./clock.js";
import { arrivedFrom, listedHere, lostWith, type Refusal, SimStorage, VM_NAME_PATTERN, type VmRecord } from "../sim-storage.js";
import { checkDestination } from "../destination.js";
import { SimWorkload, fairShare } from "./workload.js";

/** One VM of a sim host's initial configuration; a busy VM wants `busyDemand × vcpus`. */
export type SimVmSpec = GuestSpec;

export interface SimHostOptions {
  readonly name: string;
  readonly cpus: number;
  /** MiB available to guests. */
  readonly mem: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly state?: HostStateName;
  readonly vms?: readonly SimVmSpec[];
  /** Default: wall time. */
  readonly clock?: Clock;
  /** Share one workload between in-process hosts to make it cluster-wide; default: a workload of its own. */
  readonly workload?: SimWorkload;
  /** For the host's own workload: PRNG seed (default 1), switch period in seconds (default 60; 0 = fixed). */
  readonly seed?: number;
  readonly period?: number;
  readonly busyDemand?: number;
  readonly idleDemand?: number;
  /** Live-migration speed in MiB/s (default 512: a 1 GiB VM takes 2 s). */
  readonly migrationRate?: number;
  /** Shared storage folder for restarts (see `SimStorage`). */
  readonly storage?: string;
  /** Timeout of the hand-over request to the destination agent (default 5000 ms). */
  readonly transferTimeoutMs?: number;
  /**
   * Modelled Dom0 (the host's own work), percent of one CPU: served before the
   * guests, reported as `other_cpu`. Default 0, and then no `other_cpu` at all.
   */
  readonly dom0?: number;
}

interface SimVm {
  readonly name: string;
  readonly mem: number;
  readonly vcpus: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  /** Id of the migration moving it away, if any. */
  migration?: string;
}

interface Operation extends OperationEntry {
  cancel?: () => void;
  /** A migration's pre-copy: when it started (clock ms) and how long it takes, for its progress. */
  copy?: { readonly startedAt: number; readonly ms: number; readonly mib: number };
  /** Set once the definition is on its way to the destination: from then on only its answer decides. */
  handover?: Promise<void>;
}

export class SimDriver implements Driver {
  readonly kind = "sim";
  readonly name: string;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly workload: SimWorkload;
  readonly storage?: SimStorage;
  state: HostStateName;
  private readonly clock: Clock;
  private readonly rate: number;
  private readonly transferTimeoutMs: number;
  /** Modelled Dom0 CPU (`SimHostOptions.dom0`). */
  private readonly dom0: number;
  private readonly vms = new Map<string, SimVm>();
  private readonly ops = new OperationLog<Operation>();
  /** The agent's context; before the agent binds, log lines (the start-up's adoptions and refusals) wait in it. */
  private readonly agentContext = new PendingContext();
  private closed = false;

  constructor(options: SimHostOptions) {
    // Peers name it in POST /migrations and /restarts, whose schemas take only such names.
    if (!VM_NAME_PATTERN.test(options.name)) throw new Error(`bad host name ${JSON.stringify(options.name)}: letters, digits, "_", "-", "." only`);
    this.name = options.name;
    this.cpus = options.cpus;
    this.mem = options.mem;
    this.labels = { ...(options.labels ?? {}) };
    this.state = options.state ?? "up";
    this.dom0 = Math.min(options.cpus * 100, options.dom0 ?? 0);
    this.clock = options.clock ?? systemClock;
    this.rate = options.migrationRate ?? 512;
    if (!(this.rate > 0)) throw new Error(`migrationRate must be > 0 MiB/s (got ${this.rate})`);
    this.transferTimeoutMs = options.transferTimeoutMs ?? 5000;
    this.workload =
      options.workload ??
      new SimWorkload({ clock: this.clock, seed: options.seed, period: options.period, busyDemand: options.busyDemand, idleDemand: options.idleDemand });
    if (options.storage) this.storage = new SimStorage(options.storage);
    const needed = (options.vms ?? []).reduce((sum, v) => sum + v.mem, 0);
    if (needed > this.mem) throw new Error(`the VMs of ${this.name} need ${needed} MiB but the host has ${this.mem} MiB`);
    const listed = new Set<string>();
    for (const spec of options.vms ?? []) {
      if (listed.has(spec.name)) throw new Error(`VM ${spec.name} is listed twice on ${this.name}`);
      listed.add(spec.name);
      this.startListed({ name: spec.name, mem: spec.mem, vcpus: spec.vcpus ?? 1, labels: { ...(spec.labels ?? {}) }, pinned: spec.pinned ?? false }, spec.busy ?? true);
    }
  }

  /**
   * Starts a VM of the host's initial list, as the qemu driver does: only
   * when its shared-storage record is absent or names this host. A record
   * naming another host (the VM migrated or was restarted there while this
   * agent was away) is the authority: the VM is left out and the log says why.
   */
  private startListed(def: Omit<VmDefinition, "host">, busy: boolean): void {
    let why: string | null = null;
    const listed = listedHere(this.name, def.name);
    const elsewhere = (current: VmRecord | undefined) => (why = listed(current));
    try {
      this.placeRecorded(def, busy, elsewhere);
    } catch (e) {
      if (why === null) throw e;
      this.context.log("warn", why, { vm: def.name });
    }
  }

  bind(context: AgentContext): void {
    this.agentContext.bind(context);
  }

  private get context(): AgentContext {
    return this.agentContext.current;
  }

  async facts(): Promise<AgentFacts> {
    const list = [...this.vms.values()].sort((a, b) => compareNames(a.name, b.name));
    // Dom0 first (Xen boosts it), the guests share the rest.
    const dom0 = this.dom0;
    const got = fairShare(
      this.cpus * 100 - dom0,
      list.map((v) => this.workload.demand(v.name, v.vcpus)),
    );
    return {
      name: this.name,
      state: this.state,
      cpus: this.cpus,
      mem: this.mem,
      labels: { ...this.labels },
      vms: list.map((v, i) => ({ name: v.name, cpu: Math.round(got[i]! * 10) / 10, mem: v.mem, labels: { ...v.labels }, pinned: v.pinned })),
      ...(dom0 > 0 ? { other_cpu: Math.round(dom0 * 10) / 10 } : {}),
    };
  }

  /** MiB not used by VMs (a VM migrating away still counts here until it has left). */
  get memFree(): number {
    let used = 0;
    for (const v of this.vms.values()) used += v.mem;
    return this.mem - used;
  }

  /** Names of the VMs running here, sorted. */
  vmNames(): string[] {
    return [...this.vms.keys()].sort();
  }

  /** Milliseconds a migration of `mem` MiB takes at this host's rate. */
  transferMs(mem: number): number {
    return (mem / this.rate) * 1000;
  }

  async startMigration(vmName: string, to: MigrationTarget): Promise<string> {
    const vm = this.vms.get(vmName);
    if (!vm) throw new DriverError(404, `no VM "${vmName}" on host ${this.name}`);
    if (vm.migration) throw new DriverError(409, `VM ${vmName} is already migrating (migration ${vm.migration})`);
    if (to.name === this.name) throw new DriverError(400, `cannot migrate ${vmName} to its own host ${this.name}`);
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    await checkDestination(to);
    // Another request may have started (or the VM gone) while the destination answered.
    if (this.vms.get(vmName) !== vm) throw new DriverError(404, `no VM "${vmName}" on host ${this.name}`);
    if (vm.migration) throw new DriverError(409, `VM ${vmName} is already migrating (migration ${vm.migration})`);
    const id = randomUUID();
    const op: Operation = { kind: "migration", vm: vmName, status: { state: "running" }, copy: { startedAt: this.clock.now(), ms: this.transferMs(vm.mem), mib: vm.mem } };
    this.ops.add(id, op);
    vm.migration = id;
    const peer = new AgentClient({ url: to.url, name: to.name, token: this.context.token, timeoutMs: this.transferTimeoutMs });
    this.context.log("info", `migration ${id}: ${vmName} ${this.name} → ${to.name} started (${vm.mem} MiB)`, { vm: vmName, to: to.name });
    op.cancel = this.clock.schedule(this.transferMs(vm.mem), () => {
      if (op.status.state === "running") op.handover = this.handOver(id, op, vm, to, peer);
    });
    return id;
  }

  private async handOver(id: string, op: Operation, vm: SimVm, to: MigrationTarget, peer: AgentClient): Promise<void> {
    op.cancel = undefined;
    try {
      await peer.incoming(this.definition(vm), this.name);
    } catch (e) {
      this.fail(id, (e as Error).message);
      return;
    }
    // The destination runs it now: it leaves here whatever else happened meanwhile (never two copies).
    this.vms.delete(vm.name);
    this.workload.remove(vm.name, this.name);
    op.status = { state: "completed" };
    this.context.log("info", `migration ${id}: ${vm.name} ${this.name} → ${to.name} completed`, { vm: vm.name, to: to.name });
  }

  private fail(id: string, error: string): void {
    const op = this.ops.get(id);
    if (!op || op.status.state !== "running") return;
    op.handover = undefined;
    op.cancel?.();
    op.status = { state: "failed", error };
    const vm = this.vms.get(op.vm);
    if (vm && vm.migration === id) vm.migration = undefined;
    this.context.log("warn", `${op.kind} ${id} of ${op.vm} failed: ${error}`, { vm: op.vm });
  }

  migrationStatus(id: string): OperationStatus | undefined {
    const status = this.ops.status("migration", id);
    const copy = this.ops.get(id)?.copy;
    if (status?.state !== "running" || copy === undefined) return status;
    // The modelled pre-copy moves memory at a steady rate: report it as virsh's domjobinfo would.
    const elapsed = Math.max(0, this.clock.now() - copy.startedAt);
    const processed = copy.ms > 0 ? Math.min(copy.mib, (copy.mib * elapsed) / copy.ms) : copy.mib;
    return { ...status, progress: { elapsed_ms: Math.round(elapsed), processed_mib: Math.round(processed), total_mib: copy.mib } };
  }

  restartStatus(id: string): OperationStatus | undefined {
    return this.ops.status("restart", id);
  }

  async restart(vmName: string, from: string): Promise<{ id: string; status: OperationStatus }> {
    if (!this.storage) throw new DriverError(409, `host ${this.name} has no shared storage (start its agent with --storage DIR)`);
    if (this.vms.has(vmName)) throw new DriverError(409, `VM ${vmName} already runs on ${this.name}`);
    const def = this.storage.read(vmName);
    if (!def) throw new DriverError(404, `no VM "${vmName}" in shared storage ${this.storage.dir}`);
    // Checked again under the record's lock, so of two hosts restarting it one wins.
    const lastRanOn = lostWith(from, vmName);
    const refused = lastRanOn(def);
    if (refused) throw new DriverError(409, refused);
    this.admit(def);
    this.placeRecorded(def, def.extra?.busy === true, lastRanOn);
    const id = randomUUID();
    const status: OperationStatus = { state: "completed" };
    this.ops.add(id, { kind: "restart", vm: vmName, status });
    this.context.log("info", `restart ${id}: ${vmName} (lost with ${from}) started on ${this.name}`, { vm: vmName, from });
    return { id, status };
  }

  async acceptIncoming(def: VmDefinition, from: string): Promise<void> {
    if (this.vms.has(def.name)) throw new DriverError(409, `VM ${def.name} already runs on ${this.name}`);
    this.admit(def);
    // It arrives from `from`: the record may name that host (or none, or this one), never a third.
    this.placeRecorded(def, def.extra?.busy === true, arrivedFrom(this.name, def.name, [from]));
    this.context.log("info", `incoming: ${def.name} from ${from} now runs on ${this.name}`, { vm: def.name, from });
  }

  /** Sets the host's state (`degraded`, `maintenance`, …) as a real agent would report a fault. */
  setState(state: HostStateName): void {
    this.state = state;
  }

  /** Cancels migrations still copying; waits for hand-overs already sent, so a VM never ends up on both hosts. */
  async close(): Promise<void> {
    this.closed = true;
    const sent: Promise<void>[] = [];
    for (const [id, op] of this.ops.running()) {
      if (op.handover) sent.push(op.handover);
      else this.fail(id, `agent ${this.name} shut down`);
    }
    await Promise.all(sent);
  }

  /** Refuses a VM this host cannot run: not up, or not enough memory. */
  private admit(def: VmDefinition): void {
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    if (this.state !== "up") throw new DriverError(409, `host ${this.name} is ${this.state} and takes no VMs`);
    if (def.mem > this.memFree) throw new DriverError(409, `not enough memory on ${this.name} for ${def.name}: needs ${def.mem} MiB, has ${this.memFree} MiB free`);
  }

  /**
   * Claims `def`'s shared-storage record for this host (`SimStorage.claim`:
   * under the record's lock, generation + 1) unless `refuse`, shown the
   * current record, says why not (thrown as a 409), then runs it here.
   * Claimed first, so a refused VM never touches a shared workload.
   */
  private placeRecorded(def: Omit<VmDefinition, "host">, busy: boolean, refuse: Refusal): void {
    const vm: SimVm = { name: def.name, mem: def.mem, vcpus: def.vcpus, labels: { ...def.labels }, pinned: def.pinned };
    this.storage?.claim({ ...this.definition(vm), extra: { busy } }, refuse);
    this.vms.set(vm.name, vm);
    this.workload.add(vm.name, busy, this.name);
  }

  private definition(vm: SimVm): VmDefinition {
    return { name: vm.name, mem: vm.mem, vcpus: vm.vcpus, labels: vm.labels, pinned: vm.pinned, host: this.name, extra: { busy: this.workload.isBusy(vm.name) } };
  }
}
