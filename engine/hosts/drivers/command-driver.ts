/**
 * What the `xl` and `virsh` drivers share: both drive a hypervisor through
 * its command-line tool, and there the hypervisor itself moves a guest
 * (`xl migrate`, `virsh migrate --live`), so the agent's part is to start that
 * command, track it as a migration id (running while the process runs,
 * completed on exit 0, failed with its stderr otherwise) and restart lost
 * guests with the tool's create command from shared storage. A subclass
 * supplies the host's current state (`readHost`), a quick list of running
 * domains, and the argv of migrate and create.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { compareNames } from "../../names.js";
import type { HostStateName, MeasuredFieldName } from "../../types.js";
import { CommandError, type CommandRunner, failureMessage, runChecked, runCommand, showCommand } from "./command-runner.js";
import { type AgentContext, type AgentFacts, type AgentVmFact, type Driver, DriverError, type MigrationTarget, type OperationStatus, type VmDefinition } from "./contract.js";
import { type OperationEntry, OperationLog } from "./operations.js";
import { SimStorage, VM_NAME_PATTERN } from "./sim-storage.js";
import { checkDestination } from "./destination.js";

/** Options every command-line driver takes. */
export interface ToolstackOptions {
  /** The host's name in facts. */
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Labels per VM name (the toolstacks have no place for them). */
  readonly vmLabels?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** VMs reported `pinned: true`. */
  readonly pinned?: readonly string[];
  /** Overrides the CPUs the hypervisor reports. */
  readonly cpus?: number;
  /** Overrides the MiB for guests the driver works out. */
  readonly mem?: number;
  /**
   * Shared storage folder: `<vm>.cfg` (xl) or `<vm>.xml` (virsh), written by
   * the operator, and `<vm>.json`, the record of where each VM last ran,
   * written by the agents.
   */
  readonly storage?: string;
  /** Destination host name → the address `xl migrate`/`virsh migrate` should use; default the host of the agent's URL. */
  readonly migrateHosts?: Readonly<Record<string, string>>;
  /** Extra options for the migrate command (after the subcommand). */
  readonly migrateOptions?: readonly string[];
  /** Facts commands (default 10 000 ms). */
  readonly commandTimeoutMs?: number;
  /** A migration command (default 30 minutes). */
  readonly migrationTimeoutMs?: number;
  /** A create command (default 120 000 ms). */
  readonly restartTimeoutMs?: number;
  /** Check the destination agent answers with the right name before migrating (default true). */
  readonly checkPeer?: boolean;
  /** Default: `runCommand` (real child processes). */
  readonly run?: CommandRunner;
}

/** What a subclass reads from its hypervisor for `GET /facts`. */
export interface HostReading {
  readonly cpus: number;
  /** MiB for guests. */
  readonly mem: number;
  readonly vms: readonly { readonly name: string; readonly cpu: number; readonly mem: number; readonly vcpus: number }[];
  /** Percent of one CPU used outside the guests, where measured. */
  readonly otherCpu?: number;
  /** MiB a new guest can get now, where measured. */
  readonly memAvail?: number;
  /** Which facts were measured (SPEC 1 `host.measured`). */
  readonly measured?: readonly MeasuredFieldName[];
}

/** A running migration's progress, as the hypervisor reports it (`GET /migrations/ID` shows it). */
export type MigrationProgress = Readonly<Record<string, number>>;

interface Operation extends OperationEntry {
  done: Promise<void>;
}

/**
 * Like `Promise.all`, but waits for every command to end before failing with
 * the first error, so no tool is left running (or writing) behind a failed call.
 */
export async function allSettled<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The shared part of the `xl` and `virsh` drivers (see the file comment). */
export abstract class ToolstackDriver implements Driver {
  abstract readonly kind: string;
  readonly name: string;
  state: HostStateName = "up";
  protected readonly run: CommandRunner;
  protected readonly commandTimeoutMs: number;
  protected readonly storage?: SimStorage;
  private readonly ops = new OperationLog<Operation>();
  private readonly migrating = new Map<string, string>();
  /** When each VM last finished migrating away (ms), so a facts reading from before cannot record it back here. */
  private readonly movedAt = new Map<string, number>();
  private lastVms: string[] = [];
  protected context: AgentContext = { url: "", log: () => {} };
  protected closed = false;

  constructor(protected readonly options: ToolstackOptions) {
    if (!VM_NAME_PATTERN.test(options.name)) throw new Error(`bad host name ${JSON.stringify(options.name)}: letters, digits, "_", "-", "." only`);
    this.name = options.name;
    this.run = options.run ?? runCommand;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    if (options.storage) this.storage = new SimStorage(options.storage);
  }

  /** The tool's name for messages (`xl`, `virsh`). */
  protected abstract readonly tool: string;
  /** The host's CPUs, memory and running guests (not Domain-0), CPU sampled now. */
  protected abstract readHost(): Promise<HostReading>;
  /** Names of the guests running here, quickly (no CPU sampling). */
  protected abstract listRunning(): Promise<string[]>;
  /** May ask the destination agent first (virsh: where its libvirt is); a `DriverError` refuses the request. */
  protected abstract migrateArgv(vm: string, destination: string, to: MigrationTarget): string[] | Promise<string[]>;
  /** Reports a running migration's progress until the returned function is called. */
  protected watchMigration?(vm: string, report: (progress: MigrationProgress) => void): () => void;
  /** The guest's definition file in shared storage. */
  protected abstract configFile(vm: string): string;
  protected abstract createArgv(file: string): string[];

  bind(context: AgentContext): void {
    this.context = context;
  }

  /** Names of the guests seen by the last `facts()` (for the agent's start-up log). */
  vmNames(): string[] {
    return [...this.lastVms];
  }

  /** Runs a facts command; failures become 503s that name the command. */
  protected async output(argv: readonly string[]): Promise<string> {
    try {
      return await runChecked(this.run, argv, { timeoutMs: this.commandTimeoutMs });
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  protected unavailable(e: unknown): DriverError {
    if (e instanceof DriverError) return e;
    const hint = e instanceof CommandError && e.kind === "missing" ? ` (is ${this.tool} installed and on the agent's PATH?)` : "";
    return new DriverError(503, `host ${this.name}: ${(e as Error).message}${hint}`);
  }

  private labelsOf(vm: string): Record<string, string> {
    const all = this.options.vmLabels;
    return all && Object.hasOwn(all, vm) ? { ...all[vm] } : {};
  }

  async facts(): Promise<AgentFacts> {
    const started = performance.now();
    let h: HostReading;
    try {
      h = await this.readHost();
    } catch (e) {
      throw this.unavailable(e);
    }
    const vms: AgentVmFact[] = [...h.vms]
      .sort((a, b) => compareNames(a.name, b.name))
      .map((v) => ({ name: v.name, cpu: v.cpu, mem: v.mem, labels: this.labelsOf(v.name), pinned: this.options.pinned?.includes(v.name) ?? false }));
    this.lastVms = vms.map((v) => v.name);
    for (const v of h.vms) {
      if (!this.migrating.has(v.name) && !((this.movedAt.get(v.name) ?? -1) >= started)) this.record(v.name, v.mem, v.vcpus, this.name);
    }
    return {
      name: this.name,
      state: this.state,
      cpus: this.options.cpus ?? h.cpus,
      mem: this.options.mem ?? h.mem,
      labels: { ...(this.options.labels ?? {}) },
      vms,
      ...(h.otherCpu !== undefined ? { other_cpu: h.otherCpu } : {}),
      ...(h.memAvail !== undefined ? { mem_avail: h.memAvail } : {}),
      ...(h.measured ? { measured: [...h.measured] } : {}),
    };
  }

  /** Writes where a VM runs to shared storage, when it changed (restarts check it). */
  private record(vm: string, mem: number, vcpus: number, host: string): void {
    if (!this.storage || !VM_NAME_PATTERN.test(vm)) return;
    try {
      const old = this.storage.read(vm);
      if (old?.host === host && old.mem === mem && old.vcpus === vcpus) return;
      this.storage.write({ name: vm, mem, vcpus, labels: this.labelsOf(vm), pinned: this.options.pinned?.includes(vm) ?? false, host });
    } catch (e) {
      this.context.log("warn", `cannot record ${vm} in ${this.storage.dir}: ${(e as Error).message}`, { vm });
    }
  }

  private async running(): Promise<string[]> {
    try {
      return await this.listRunning();
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  /**
   * The address the migrate command is given for `to`: the configured one,
   * else the host of its agent URL. Never one starting with "-": xl hands it
   * to ssh (and libvirt's URI to ssh too), where it would be read as an option
   * (`-oProxyCommand=…` runs a command).
   */
  destinationOf(to: MigrationTarget): string {
    const host = this.destinationAddress(to);
    if (host.startsWith("-")) throw new DriverError(400, `the address ${JSON.stringify(host)} of ${to.name} starts with "-": refusing to pass it to ${this.tool} migrate`);
    return host;
  }

  private destinationAddress(to: MigrationTarget): string {
    const mapped = this.options.migrateHosts?.[to.name];
    if (mapped) return mapped;
    let host: string;
    try {
      host = new URL(to.url).hostname.replace(/^\[|\]$/g, "");
    } catch {
      throw new DriverError(400, `cannot tell the address of ${to.name} from its URL ${JSON.stringify(to.url)}`);
    }
    if (!host) throw new DriverError(400, `the URL ${to.url} of ${to.name} names no host`);
    return host;
  }

  async startMigration(vm: string, to: MigrationTarget): Promise<string> {
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    if (to.name === this.name) throw new DriverError(400, `cannot migrate ${vm} to its own host ${this.name}`);
    const busy = this.migrating.get(vm);
    if (busy) throw new DriverError(409, `VM ${vm} is already migrating (migration ${busy})`);
    const destination = this.destinationOf(to);
    if (!(await this.running()).includes(vm)) throw new DriverError(404, `no VM "${vm}" on host ${this.name}`);
    // Before the hypervisor starts copying: the destination agent is there and is who the caller says.
    if (this.options.checkPeer !== false) await checkDestination(to);
    if (this.migrating.has(vm)) throw new DriverError(409, `VM ${vm} is already migrating (migration ${this.migrating.get(vm)})`);
    let argv: string[];
    try {
      argv = await this.migrateArgv(vm, destination, to);
    } catch (e) {
      throw this.unavailable(e);
    }
    if (this.migrating.has(vm)) throw new DriverError(409, `VM ${vm} is already migrating (migration ${this.migrating.get(vm)})`);
    const id = randomUUID();
    const op: Operation = { kind: "migration", vm, status: { state: "running" }, done: Promise.resolve() };
    this.ops.add(id, op);
    this.migrating.set(vm, id);
    this.context.log("info", `migration ${id}: ${vm} ${this.name} → ${to.name} started (${showCommand(argv)})`, { vm, to: to.name });
    const unwatch = this.watchMigration?.(vm, (progress) => {
      if (op.status.state === "running") op.status = { state: "running", progress };
    });
    op.done = this.migrate(vm, to, argv).then(
      () => {
        op.status = { state: "completed" };
        this.context.log("info", `migration ${id}: ${vm} ${this.name} → ${to.name} completed`, { vm, to: to.name });
      },
      (e: Error) => {
        op.status = { state: "failed", error: e.message };
        this.context.log("warn", `migration ${id} of ${vm} failed: ${e.message}`, { vm, to: to.name });
      },
    ).finally(() => {
      unwatch?.();
      this.migrating.delete(vm);
    });
    return id;
  }

  private async migrate(vm: string, to: MigrationTarget, argv: string[]): Promise<void> {
    const r = await this.run(argv, { timeoutMs: this.options.migrationTimeoutMs ?? 30 * 60_000 });
    if (r.code !== 0) throw new Error(failureMessage(argv, r));
    this.movedAt.set(vm, performance.now());
    // The guest has moved: a damaged record must not turn that into a failure.
    try {
      const def = this.storage?.read(vm);
      if (def) this.record(vm, def.mem, def.vcpus, to.name);
    } catch (e) {
      this.context.log("warn", `cannot record ${vm} as moved to ${to.name}: ${(e as Error).message}`, { vm });
    }
  }

  migrationStatus(id: string): OperationStatus | undefined {
    return this.ops.status("migration", id);
  }

  restartStatus(id: string): OperationStatus | undefined {
    return this.ops.status("restart", id);
  }

  async restart(vm: string, from: string): Promise<{ id: string; status: OperationStatus }> {
    if (this.closed) throw new DriverError(503, `agent ${this.name} is shutting down`);
    if (!this.storage) throw new DriverError(409, `host ${this.name} has no shared storage (start its agent with --storage DIR)`);
    if (!VM_NAME_PATTERN.test(vm)) throw new DriverError(400, `bad VM name ${JSON.stringify(vm)}: letters, digits, "_", "-", "." only`);
    const file = this.configFile(vm);
    if (!existsSync(file)) throw new DriverError(404, `no VM "${vm}" in shared storage: ${file} does not exist`);
    const def = this.storage.read(vm);
    if (!def) throw new DriverError(409, `no record of where VM ${vm} last ran (${join(this.storage.dir, `${vm}.json`)}; agents write it when they report a VM): refusing to start it unchecked`);
    if (def.host !== from) throw new DriverError(409, `VM ${vm} last ran on ${def.host}, not ${from}: refusing to start a second copy`);
    if ((await this.running()).includes(vm)) throw new DriverError(409, `VM ${vm} already runs on ${this.name}`);
    if (this.ops.running().some(([, o]) => o.kind === "restart" && o.vm === vm)) throw new DriverError(409, `VM ${vm} is already being started on ${this.name}`);
    const id = randomUUID();
    const argv = this.createArgv(file);
    const op: Operation = { kind: "restart", vm, status: { state: "running" }, done: Promise.resolve() };
    this.ops.add(id, op);
    this.context.log("info", `restart ${id}: ${vm} (lost with ${from}) starting on ${this.name} (${showCommand(argv)})`, { vm, from });
    op.done = runChecked(this.run, argv, { timeoutMs: this.options.restartTimeoutMs ?? 120_000 }).then(
      () => {
        op.status = { state: "completed" };
        this.record(vm, def.mem, def.vcpus, this.name);
        this.context.log("info", `restart ${id}: ${vm} runs on ${this.name}`, { vm, from });
      },
      (e: Error) => {
        op.status = { state: "failed", error: e.message };
        this.context.log("warn", `restart ${id} of ${vm} failed: ${e.message}`, { vm, from });
      },
    );
    return { id, status: op.status };
  }

  /**
   * The hypervisor has already moved the guest when a peer hands it over, so
   * there is nothing to start: confirm it runs here and record it.
   */
  async acceptIncoming(definition: VmDefinition, from: string): Promise<void> {
    if (!(await this.running()).includes(definition.name)) throw new DriverError(409, `VM ${definition.name} from ${from} does not run on ${this.name} (${this.tool} moves it; nothing to hand over)`);
    this.record(definition.name, definition.mem, definition.vcpus, this.name);
  }

  /**
   * Refuses new work and waits for migrations and restarts in flight: killing
   * `xl migrate` past its point of no return could leave the guest nowhere
   * (each command still ends at its own timeout).
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.ops.running().map(([, o]) => o.done));
  }
}
