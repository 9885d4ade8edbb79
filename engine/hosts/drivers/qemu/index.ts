/**
 * The `qemu` driver: real guests as QEMU processes (KVM when available, else
 * TCG) driven over QMP. CPU comes from /proc; a live migration is QEMU's own:
 * the destination agent starts a QEMU waiting on `-incoming` (`POST
 * /incoming/prepare`), the source runs QMP `migrate` to it and polls
 * `query-migrate`, then hands over (`POST /incoming`) and quits its paused
 * copy. Restarts start a QEMU from the shared-storage definition. A guest
 * runs a one-instruction boot sector, busy (spinning) or idle (halted), so
 * its CPU use is real; it has no other disk: memory and device state move,
 * which is what a live migration copies.
 *
 * Guests outlive the agent (SPEC 6): a new run finds the QEMUs of the last
 * one in `--run-dir` and adopts them (`adoption.ts`), and the
 * shared-storage record decides who may run a VM: every start, adoption,
 * incoming migration and resumption claims it, and a VM whose record names
 * another host is never started here.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { cpus as osCpus, totalmem } from "node:os";
import { AgentClient, AgentClientError } from "../../client.js";
import { compareNames } from "../../../names.js";
import type { HostStateName } from "../../../types.js";
import { type AgentContext, type AgentFacts, type Driver, DriverError, type GuestSpec, type MigrationTarget, type OperationStatus, PendingContext, type VmDefinition } from "../contract.js";
import { type OperationEntry, OperationLog } from "../operations.js";
import { type Adoption, adoptLeftGuests, followMigration } from "./adoption.js";
import { QemuVm, writeBootImages } from "./process.js";
import { CpuWindow, measuredFields } from "../cpu-window.js";
import { hostBusyNs, memAvailableMiB } from "../proc-host.js";

/** How often a prepared incoming guest is asked whether its migration completed. */
const INCOMING_POLL_MS = 200;
/** How long a hand-over waits for an incoming guest to finish loading ("inmigrate"). */
const INCOMING_SETTLE_MS = 10_000;
import type { QmpClient } from "./qmp.js";
import { listedHere, lostWith, type Refusal, SimStorage, type VmRecord } from "../sim-storage.js";
import { lockRunDir, type RunDirLock } from "./run-dir-lock.js";
import { checkDestination } from "../destination.js";

/** A migration URI as `prepareIncoming` makes it: `tcp:HOST:PORT`, HOST a name, an IPv4 address or a bracketed IPv6 one. */
const MIGRATION_URI = /^tcp:(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;

/** A guest started with the agent: `busy` runs a spinning guest (one vCPU at 100%) instead of an idle one (default false). */
export type QemuGuestSpec = GuestSpec;

export interface QemuHostOptions {
  readonly name: string;
  /** Default: this machine's CPUs. */
  readonly cpus?: number;
  /** MiB for guests; default: the machine's memory less 1 GiB. */
  readonly mem?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Folder for each guest's pid file, QMP socket and definition; one per agent, kept across its restarts. */
  readonly runDir: string;
  /** Shared definitions folder for restarts (same layout as the sim's). */
  readonly storage?: string;
  /** Guests started with the agent. */
  readonly vms?: readonly QemuGuestSpec[];
  /** Default `qemu-system-x86_64`. */
  readonly binary?: string;
  /** Default `["kvm", "tcg"]`: KVM if the machine has it, else emulation. */
  readonly accel?: readonly string[];
  /** Address incoming QEMUs listen on; default the host of the agent's own URL. */
  readonly migrationAddress?: string;
  /** `close` quits the guests (`--stop-guests-on-exit`); default false: they run on and the next run adopts them. */
  readonly stopGuestsOnClose?: boolean;
  /** CPU readings (from /proc) this often, averaged over `windowMs` (defaults 1000 and 10 000 ms). */
  readonly sampleMs?: number;
  readonly windowMs?: number;
  /** A guest's first milliseconds after it starts or arrives are not its load (default 5000). */
  readonly graceMs?: number;
  /** MiB of MemAvailable kept back for the host itself (default 1024). */
  readonly reserveMem?: number;
}

export class QemuDriver implements Driver {
  readonly kind = "qemu";
  readonly name: string;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  state: HostStateName = "up";
  private readonly storage?: SimStorage;
  private readonly vms = new Map<string, QemuVm>();
  /** Prepared for an incoming migration, not yet handed over. */
  private readonly incoming = new Map<string, QemuVm>();
  /** Where each adopted incoming guest came from, so a late hand-over is confirmed, not refused. */
  private readonly adoptedFrom = new Map<string, string>();
  private readonly migrating = new Set<string>();
  private readonly ops = new OperationLog<OperationEntry>();
  /** The agent's context; before the agent binds, log lines (the start-up's adoptions and refusals) wait in it. */
  private readonly agentContext = new PendingContext();
  private closed = false;
  /** CPU measured on the agent's own clock, so asking for facts does not change them. */
  private readonly window: CpuWindow;
  private readonly sampler: NodeJS.Timeout;
  /** `RUNDIR/agent.lock`, held from construction to `close`. */
  private readonly runDirLock: RunDirLock;

  private constructor(private readonly options: QemuHostOptions) {
    this.name = options.name;
    this.cpus = options.cpus ?? osCpus().length;
    this.mem = options.mem ?? Math.max(0, Math.floor(totalmem() / 1048576) - 1024);
    this.labels = { ...(options.labels ?? {}) };
    mkdirSync(options.runDir, { recursive: true });
    // Before anything in the run dir is touched: a second agent on it would adopt the same guests.
    this.runDirLock = lockRunDir(options.runDir, options.name);
    const dead = this.runDirLock.tookOverFrom;
    if (dead) this.context.log("warn", `took over ${this.runDirLock.path} from agent pid ${dead.pid}${dead.host ? ` (${dead.host})` : ""}, which is gone`);
    try {
      writeBootImages(options.runDir);
      if (options.storage) this.storage = new SimStorage(options.storage);
    } catch (e) {
      this.runDirLock.release();
      throw e;
    }
    this.window = new CpuWindow({ windowMs: options.windowMs, graceMs: options.graceMs });
    this.sampleCpu();
    this.sampler = setInterval(() => this.sampleCpu(), options.sampleMs ?? 1000);
    this.sampler.unref();
  }

  /** One reading of the host's busy time and each guest's QEMU process (/proc reads: cheap). */
  private sampleCpu(): void {
    const guests = new Map<string, bigint>();
    for (const v of this.vms.values()) {
      const ns = v.cpuNs();
      if (ns !== undefined) guests.set(v.def.name, ns);
    }
    // Incoming guests' QEMUs run here too: their time is not "other".
    for (const v of this.incoming.values()) {
      const ns = v.cpuNs();
      if (ns !== undefined) guests.set(v.def.name, ns);
    }
    this.window.add({ at: performance.now(), hostBusyNs: hostBusyNs(), guests });
  }

  /**
   * Creates the driver: adopts the guests an earlier run left in the run
   * dir, then starts each initial guest that does not run yet and whose
   * record is absent or names this host (the others are logged and left
   * out). A guest that cannot start fails the whole creation and stops
   * the guests it started.
   */
  static async create(options: QemuHostOptions): Promise<QemuDriver> {
    const d = new QemuDriver(options);
    const started: QemuVm[] = [];
    try {
      await adoptLeftGuests(d.adoption(), options.runDir);
      for (const g of options.vms ?? []) {
        if (d.vms.has(g.name) || d.incoming.has(g.name)) continue;
        const def = { name: g.name, mem: g.mem, vcpus: g.vcpus ?? 1, labels: { ...(g.labels ?? {}) }, pinned: g.pinned ?? false, host: d.name, extra: { busy: g.busy === true } };
        // Why the record forbids starting it here (set by the check, which runs again under the record's lock).
        const refusal: { why: string | null } = { why: null };
        const listed = listedHere(d.name, g.name);
        const elsewhere = (current: VmRecord | undefined) => (refusal.why = listed(current));
        if (d.storage) elsewhere(d.storage.read(g.name));
        try {
          if (refusal.why === null) {
            d.admit(def);
            started.push(await d.launchClaimed(def, elsewhere));
          }
        } catch (e) {
          if (refusal.why === null) throw e; // else another agent took the record between the check and the claim
        }
        if (refusal.why !== null) d.context.log("warn", refusal.why, { vm: g.name });
      }
    } catch (e) {
      // All or none of the new guests; adopted ones run on, as they did before.
      await Promise.all(started.map((v) => v.stop()));
      await d.close();
      throw e;
    }
    return d;
  }

  bind(context: AgentContext): void {
    this.agentContext.bind(context);
  }

  private get context(): AgentContext {
    return this.agentContext.current;
  }

  async facts(): Promise<AgentFacts> {
    const list = [...this.vms.values()].sort((a, b) => compareNames(a.def.name, b.def.name));
    const otherCpu = this.window.otherCpu();
    const avail = memAvailableMiB();
    const memAvail = avail === undefined ? undefined : Math.max(0, avail - (this.options.reserveMem ?? 1024));
    return {
      name: this.name,
      state: this.state,
      cpus: this.cpus,
      mem: this.mem,
      labels: { ...this.labels },
      vms: list.map((v) => ({ name: v.def.name, cpu: this.window.guestCpu(v.def.name), mem: v.def.mem, labels: { ...v.def.labels }, pinned: v.def.pinned })),
      ...(otherCpu !== undefined ? { other_cpu: otherCpu } : {}),
      ...(memAvail !== undefined ? { mem_avail: memAvail } : {}),
      measured: measuredFields(otherCpu, memAvail),
    };
  }

  /** The QMP connection of a guest running here (operators' tools, tests), or undefined. */
  monitor(vm: string): QmpClient | undefined {
    return this.vms.get(vm)?.qmp;
  }

  vmNames(): string[] {
    return [...this.vms.keys()].sort();
  }

  private get memFree(): number {
    let used = 0;
    for (const v of [...this.vms.values(), ...this.incoming.values()]) used += v.def.mem;
    return this.mem - used;
  }

  private admit(def: VmDefinition): void {
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    if (this.state !== "up") throw new DriverError(409, `host ${this.name} is ${this.state} and takes no VMs`);
    if (this.vms.has(def.name) || this.incoming.has(def.name)) throw new DriverError(409, `VM ${def.name} already runs on ${this.name}`);
    if (def.mem > this.memFree) throw new DriverError(409, `not enough memory on ${this.name} for ${def.name}: needs ${def.mem} MiB, has ${this.memFree} MiB free`);
  }

  /** Starts a QEMU for `def`: one of this host's VMs, or (`incomingFrom` set) one waiting for a migration from that host. */
  private async launch(def: VmDefinition, incomingFrom?: string): Promise<QemuVm> {
    const vm = await QemuVm.start(
      { ...def, host: this.name },
      { binary: this.options.binary ?? "qemu-system-x86_64", runDir: this.options.runDir, accel: this.options.accel ?? ["kvm", "tcg"], incomingFrom },
      (gone) => this.onExit(gone),
    );
    (incomingFrom !== undefined ? this.incoming : this.vms).set(def.name, vm);
    return vm;
  }

  /** Claims the record of `def` for this host, then starts it (`SimStorage.claimThen`); without storage, just starts it. */
  private launchClaimed(def: VmDefinition, refuse: Refusal): Promise<QemuVm> {
    return this.storage ? this.storage.claimThen({ ...def, host: this.name }, refuse, () => this.launch(def)) : this.launch(def);
  }

  /** Claims the record of a guest that runs here now, arrived from one of `from`; returns why not, or null (`SimStorage.take`). */
  private claimRunning(def: VmDefinition, from: readonly string[]): string | null {
    return this.storage?.take({ ...def, host: this.name }, from) ?? null;
  }

  private onExit(vm: QemuVm): void {
    for (const map of [this.vms, this.incoming]) {
      if (map.get(vm.def.name) === vm) {
        map.delete(vm.def.name);
        this.adoptedFrom.delete(vm.def.name);
        if (!this.closed && !this.migrating.has(vm.def.name)) this.context.log("warn", `VM ${vm.def.name}: ${vm.exited}`, { vm: vm.def.name });
      }
    }
  }

  async startMigration(vmName: string, to: MigrationTarget): Promise<string> {
    const vm = this.vms.get(vmName);
    if (!vm) throw new DriverError(404, `no VM "${vmName}" on host ${this.name}`);
    if (this.migrating.has(vmName)) throw new DriverError(409, `VM ${vmName} is already migrating`);
    if (to.name === this.name) throw new DriverError(400, `cannot migrate ${vmName} to its own host ${this.name}`);
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    await checkDestination(to);
    // Another request may have started (or the VM gone) while the destination answered.
    if (this.vms.get(vmName) !== vm) throw new DriverError(404, `no VM "${vmName}" on host ${this.name}`);
    if (this.migrating.has(vmName)) throw new DriverError(409, `VM ${vmName} is already migrating`);
    const id = randomUUID();
    const op: OperationEntry = { kind: "migration", vm: vmName, status: { state: "running" } };
    this.ops.add(id, op);
    this.migrating.add(vmName);
    this.context.log("info", `migration ${id}: ${vmName} ${this.name} → ${to.name} started (${vm.def.mem} MiB)`, { vm: vmName, to: to.name });
    void this.migrate(vm, to).then(
      () => {
        op.status = { state: "completed" };
        this.context.log("info", `migration ${id}: ${vmName} ${this.name} → ${to.name} completed`, { vm: vmName, to: to.name });
      },
      (e: Error) => {
        op.status = { state: "failed", error: e.message };
        this.context.log("warn", `migration ${id} of ${vmName} failed: ${e.message}`, { vm: vmName });
      },
    ).finally(() => this.migrating.delete(vmName));
    return id;
  }

  private async migrate(vm: QemuVm, to: MigrationTarget): Promise<void> {
    // startMigration checked that the agent at to.url is to.name.
    const peer = new AgentClient({ url: to.url, name: to.name, token: this.context.token, timeoutMs: 15_000 });
    const ready = await peer.prepareIncoming(vm.def, this.name);
    if (typeof ready.uri !== "string") throw new Error(`agent ${to.name} prepared no migration URI`);
    // Only what prepareIncoming answers: QEMU would run an `exec:` URI as a shell command.
    if (!MIGRATION_URI.test(ready.uri)) {
      await peer.abortIncoming(vm.def.name, this.name).catch(() => {});
      throw new Error(`agent ${to.name} prepared the migration URI ${JSON.stringify(ready.uri)}, not tcp:HOST:PORT`);
    }
    try {
      await vm.qmp.execute("migrate", { uri: ready.uri });
      for (;;) {
        const info = await vm.qmp.execute<{ status?: string; "error-desc"?: string }>("query-migrate");
        if (info.status === "completed") break;
        if (info.status === "failed" || info.status === "cancelled") throw new Error(`QEMU migration ${info.status}: ${info["error-desc"] ?? "no reason given"}`);
        if (vm.exited) throw new Error(vm.exited);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (e) {
      // An agent shutting down has only let go of QEMU, which migrates on: its next run follows the migration to its end.
      if (this.closed && !vm.exited) throw e;
      await peer.abortIncoming(vm.def.name, this.name).catch(() => {});
      throw e;
    }
    // The copy is done: the destination's QEMU has the guest and ours is paused
    // ("postmigrate"). The hand-over tells the destination agent; it adopts the
    // guest by itself too (watchIncoming), so a lost answer strands nothing.
    try {
      await peer.incoming(vm.def, this.name);
    } catch (e) {
      if (!(e instanceof AgentClientError && e.kind === "http")) {
        this.context.log("warn", `migration of ${vm.def.name}: ${(e as Error).message}; the destination adopts the guest once its QEMU runs it`, { vm: vm.def.name, to: to.name });
      } else {
        // The destination answered that its copy does not run: stop that copy, then resume ours, whole since the copy.
        const stopped = await peer.abortIncoming(vm.def.name, this.name).then(
          () => true,
          (abort: Error) => abort instanceof AgentClientError && abort.kind === "http" && abort.status === 404,
        );
        if (!stopped) throw new Error(`${e.message}; the destination's copy could not be stopped, so ${vm.def.name} stays paused on ${this.name} (never two copies)`);
        // The record first: it may name a third host by now, and then this copy must not run.
        const taken = this.claimRunning(vm.def, [to.name]);
        if (taken !== null) {
          this.vms.delete(vm.def.name);
          await vm.stop();
          throw new Error(`${e.message}; ${taken}, so ${vm.def.name} was stopped on ${this.name}, not resumed`);
        }
        await vm.qmp.execute("cont");
        throw new Error(`${e.message}; ${vm.def.name} resumed on ${this.name}`);
      }
    }
    this.vms.delete(vm.def.name);
    this.adoptedFrom.delete(vm.def.name);
    await vm.stop();
  }

  migrationStatus(id: string): OperationStatus | undefined {
    return this.ops.status("migration", id);
  }

  restartStatus(id: string): OperationStatus | undefined {
    return this.ops.status("restart", id);
  }

  async prepareIncoming(def: VmDefinition, from: string): Promise<Record<string, unknown>> {
    this.admit(def);
    const host = this.options.migrationAddress ?? (new URL(this.context.url).hostname.replace(/^\[|\]$/g, "") || "127.0.0.1");
    let vm: QemuVm;
    try {
      vm = await this.launch(def, from);
    } catch (e) {
      throw new DriverError(409, `cannot start an incoming QEMU for ${def.name} on ${this.name}: ${(e as Error).message}`);
    }
    try {
      await vm.qmp.execute("migrate-incoming", { uri: `tcp:${host.includes(":") ? `[${host}]` : host}:0` });
      const info = await vm.qmp.execute<{ "socket-address"?: { host?: string; port?: string }[] }>("query-migrate");
      const port = info["socket-address"]?.[0]?.port;
      if (!port) throw new Error("QEMU reported no listening port");
      this.context.log("info", `incoming: ${def.name} from ${from} expected on port ${port}`, { vm: def.name, from });
      void this.watchIncoming(vm, from);
      return { uri: `tcp:${host.includes(":") ? `[${host}]` : host}:${port}` };
    } catch (e) {
      this.incoming.delete(def.name);
      await vm.stop();
      throw new DriverError(409, `cannot prepare ${def.name} on ${this.name}: ${(e as Error).message}`);
    }
  }

  async abortIncoming(vmName: string, from: string): Promise<void> {
    // A guest the watcher already adopted from `from` is stopped too: the source resumes its own copy next.
    const prepared = this.incoming.get(vmName);
    const vm = prepared ?? (this.adoptedFrom.get(vmName) === from ? this.vms.get(vmName) : undefined);
    if (!vm) throw new DriverError(404, `no incoming VM "${vmName}" on ${this.name}`);
    if (prepared) this.incoming.delete(vmName);
    else this.vms.delete(vmName);
    this.adoptedFrom.delete(vmName);
    await vm.stop();
    this.context.log("info", `incoming ${vmName} from ${from} aborted`, { vm: vmName, from });
  }

  async acceptIncoming(def: VmDefinition, from: string): Promise<void> {
    const vm = this.incoming.get(def.name);
    // Adopted already by watchIncoming: the hand-over only confirms it.
    if (!vm && this.vms.has(def.name) && this.adoptedFrom.get(def.name) === from) return;
    if (!vm) throw new DriverError(409, `no incoming VM "${def.name}" prepared on ${this.name} (POST /incoming/prepare first)`);
    const statusOf = () => vm.qmp.execute<{ status?: string }>("query-status").catch((e: Error) => ({ status: `unknown (${e.message})` }));
    let status = await statusOf();
    // The source's QEMU says completed once it has sent everything; ours may still be loading it.
    for (const end = Date.now() + INCOMING_SETTLE_MS; status.status === "inmigrate" && Date.now() < end; status = await statusOf()) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.vms.get(def.name) === vm) return; // the watcher adopted it meanwhile
    // "paused" when the guest was paused on the source: it moved as it was.
    if (status.status !== "running" && status.status !== "paused") throw new DriverError(409, `incoming VM ${def.name} on ${this.name} is ${status.status}, not running`);
    const refused = this.adopt(vm, from);
    if (refused !== null) throw new DriverError(409, refused);
  }

  /**
   * An incoming guest becomes one of this host's VMs (reported in facts,
   * its record claimed). A record that names a third host wins: this copy
   * is stopped (never two copies). Returns why it was not adopted, or null.
   */
  private adopt(vm: QemuVm, from: string): string | null {
    if (this.incoming.get(vm.def.name) !== vm) return null;
    this.incoming.delete(vm.def.name);
    const refused = this.claimRunning(vm.def, [from]);
    if (refused !== null) {
      this.context.log("error", `incoming ${vm.def.name} from ${from} stopped: ${refused}`, { vm: vm.def.name, from });
      void vm.stop();
      return `incoming ${vm.def.name} from ${from} stopped on ${this.name}: ${refused}`;
    }
    this.vms.set(vm.def.name, vm);
    this.adoptedFrom.set(vm.def.name, from);
    vm.settle();
    this.context.log("info", `incoming: ${vm.def.name} from ${from} now runs on ${this.name}`, { vm: vm.def.name, from });
    return null;
  }

  /**
   * Adopts a prepared guest as soon as its QEMU reports the migration
   * completed, without waiting for the source's hand-over: were that lost,
   * the guest would run here unreported while the source counts it.
   * Stops when the guest is adopted, aborted or gone.
   */
  private async watchIncoming(vm: QemuVm, from: string): Promise<void> {
    while (this.incoming.get(vm.def.name) === vm && !vm.exited && !this.closed) {
      await new Promise((r) => setTimeout(r, INCOMING_POLL_MS));
      if (this.incoming.get(vm.def.name) !== vm || vm.exited) return;
      try {
        const migration = await vm.qmp.execute<{ status?: string }>("query-migrate");
        if (migration.status !== "completed") continue;
        const status = await vm.qmp.execute<{ status?: string }>("query-status");
        if (status.status === "running" || status.status === "paused") this.adopt(vm, from);
      } catch {
        // A QEMU that stopped answering is handled by its exit (onExit) or by the abort.
      }
    }
  }

  async restart(vmName: string, from: string): Promise<{ id: string; status: OperationStatus }> {
    if (!this.storage) throw new DriverError(409, `host ${this.name} has no shared storage (start its agent with --storage DIR)`);
    const def = this.storage.read(vmName);
    if (!def) throw new DriverError(404, `no VM "${vmName}" in shared storage ${this.storage.dir}`);
    const lastRanOn = lostWith(from, vmName);
    const refused = lastRanOn(def);
    if (refused) throw new DriverError(409, refused);
    this.admit(def);
    try {
      await this.launchClaimed(def, lastRanOn);
    } catch (e) {
      if (e instanceof DriverError) throw e;
      throw new DriverError(409, `cannot start ${vmName} on ${this.name}: ${(e as Error).message}`);
    }
    const id = randomUUID();
    const status: OperationStatus = { state: "completed" };
    this.ops.add(id, { kind: "restart", vm: vmName, status });
    this.context.log("info", `restart ${id}: ${vmName} (lost with ${from}) started on ${this.name}`, { vm: vmName, from });
    return { id, status };
  }

  /**
   * Lets the guests run on (the next run adopts them), or quits them with
   * `stopGuestsOnClose`. Either way the agent stops answering for them.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sampler);
    const guests = [...this.vms.values(), ...this.incoming.values()];
    try {
      if (this.options.stopGuestsOnClose) await Promise.all(guests.map((v) => v.stop()));
      else for (const v of guests) v.release();
    } finally {
      this.runDirLock.release();
    }
  }

  /** What `adoptLeftGuests` may do to this driver while it is being created. */
  private adoption(): Adoption {
    return {
      log: (...entry) => this.context.log(...entry),
      attach: (def, pid) => QemuVm.attach({ ...def, host: this.name }, pid, this.options.runDir, (gone) => this.onExit(gone)),
      running: (vm, from) => {
        const refused = this.claimRunning(vm.def, from === undefined ? [] : [from]);
        if (refused !== null) return refused;
        this.vms.set(vm.def.name, vm);
        if (from !== undefined) {
          this.adoptedFrom.set(vm.def.name, from);
          vm.settle();
        }
        return null;
      },
      incoming: (vm, from) => {
        this.incoming.set(vm.def.name, vm);
        void this.watchIncoming(vm, from);
      },
      migrating: (vm) => {
        this.vms.set(vm.def.name, vm);
        this.migrating.add(vm.def.name);
        void followMigration(vm, (...entry) => this.context.log(...entry)).then(async (ended) => {
          this.migrating.delete(vm.def.name);
          if (ended !== "completed" || this.vms.get(vm.def.name) !== vm) return;
          this.vms.delete(vm.def.name);
          await vm.stop();
        });
      },
    };
  }
}
