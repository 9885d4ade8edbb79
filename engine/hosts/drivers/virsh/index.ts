/**
 * The `virsh` driver: a libvirt host (KVM/QEMU, or Xen through libxl) via
 * `virsh`, every call with `-c URI` when the agent is given `--connect`.
 *
 * Facts: `virsh nodeinfo` (CPUs, memory), `virsh nodememstats` (memory a new
 * guest can get: `mem_avail`), and CPU measured on the agent's own clock:
 * every `sampleMs` it reads `virsh domstats` (`cpu.time` per guest) and
 * `virsh nodecpustats` (the host's busy time), and facts average the last
 * `windowMs` (`CpuWindow`). Where a field is missing (libvirt's
 * `test:///default` driver prints no `cpu.time` or `balloon.*`), `virsh
 * dominfo` fills it in; a host without `nodecpustats`/`nodememstats` simply
 * reports no `other_cpu`/`mem_avail`.
 *
 * Migration: the destination agent says where its libvirt is
 * (`POST /incoming/prepare` answers `{ uri, migrate_uri?, listen_address? }`
 * from its `--advertise-uri` and `--migration-address`), then the source runs
 * `virsh migrate --live --persistent --undefinesource DOM URI [--migrateuri
 * tcp://ADDR --listen-address ADDR]`, polling `virsh domjobinfo` for progress.
 * A writable disk that is not on shared storage is refused before anything
 * starts (no `--copy-storage-*`; `--unsafe` only when the operator's config
 * says `unsafe: true`). Process handling lives in `ToolstackDriver`.
 */
import { join } from "node:path";
import { AgentClient, AgentClientError } from "../../client.js";
import { CpuWindow, measuredFields } from "../cpu-window.js";
import { DriverError, type MigrationTarget, type VmDefinition } from "../contract.js";
import { sharedStorageRefusal } from "../shared-storage.js";
import { type HostReading, ToolstackDriver, allSettled, type ToolstackOptions, type MigrationProgress } from "../command-driver.js";
import { type VirshNodeInfo, parseDisks, parseDomjobinfo, parseDominfo, parseDomstats, parseNameList, parseNodeCpuStats, parseNodeMemStats, parseNodeinfo, statNumber } from "./parse.js";
import { ParseError } from "../xl/parse.js";

export interface VirshHostOptions extends ToolstackOptions {
  /** Default `virsh` (found on PATH). */
  readonly virshBinary?: string;
  /** The local libvirt URI (`virsh -c URI` on every call); default virsh's own default. */
  readonly connect?: string;
  /**
   * The URI other hosts' libvirt reaches this one by (`virsh migrate`'s
   * destination URI, told to sources by `POST /incoming/prepare`). Default:
   * `connect` when it names a transport (`qemu+tcp://…`, `qemu+unix:///…?socket=…`),
   * else `qemu+ssh://HOST/system` with HOST the host of this agent's URL.
   */
  readonly advertiseUri?: string;
  /** Address incoming guests' data arrives on (`--migrateuri tcp://ADDR --listen-address ADDR`); default libvirt's choice (the host name). */
  readonly migrationAddress?: string;
  /** Pass `--unsafe` and skip the shared-storage check (only where storage is shared in a way the agent cannot see). */
  readonly unsafe?: boolean;
  /** Between two CPU readings (default 1000 ms). */
  readonly sampleMs?: number;
  /** CPU is averaged over this long (default 10 000 ms). */
  readonly windowMs?: number;
  /** A guest's first milliseconds after it appears are not counted as its load (default 5000). */
  readonly graceMs?: number;
  /** MiB kept back from the node's memory for the host itself (default 1024, as the qemu driver). */
  readonly reserveMem?: number;
  /** Milliseconds clock for the samples (tests inject one). */
  readonly now?: () => number;
}

/** A libvirt URI as a destination may advertise it: `driver[+transport]://…`, never an option. */
const LIBVIRT_URI = /^[a-z][a-z0-9]*(\+[a-z0-9]+)?:\/\/[^\s]*$/i;
/** A data-path URI for `--migrateuri`. */
const MIGRATE_URI = /^(tcp:\/\/[A-Za-z0-9.:[\]-]+|unix:\/\/\/[^\s]+)$/;
const ADDRESS = /^[A-Za-z0-9.:[\]-]+$/;

interface GuestReading {
  readonly cpuNs?: bigint;
  readonly memKiB: number;
  readonly vcpus: number;
}

export class VirshDriver extends ToolstackDriver {
  readonly kind = "virsh";
  protected readonly tool = "virsh";
  private readonly virsh: string[];
  private readonly now: () => number;
  private readonly window: CpuWindow;
  private guests = new Map<string, GuestReading>();
  private timer?: NodeJS.Timeout;
  /** `virsh nodeinfo` changes only when the hardware does: read once a minute. */
  private nodeInfo?: { at: number; info: Promise<VirshNodeInfo> };
  /** Readings are taken one at a time, in order. */
  private sampling: Promise<void> = Promise.resolve();

  constructor(private readonly virshOptions: VirshHostOptions) {
    super(virshOptions);
    this.virsh = [virshOptions.virshBinary ?? "virsh", ...(virshOptions.connect ? ["-c", virshOptions.connect] : [])];
    this.now = virshOptions.now ?? (() => performance.now());
    this.window = new CpuWindow({ windowMs: virshOptions.windowMs, graceMs: virshOptions.graceMs });
    for (const [what, v] of [["advertiseUri", virshOptions.advertiseUri], ["connect", virshOptions.connect]] as const) {
      if (v !== undefined && !LIBVIRT_URI.test(v)) throw new Error(`${what} ${JSON.stringify(v)} is not a libvirt URI (driver[+transport]://…)`);
    }
    if (virshOptions.migrationAddress !== undefined && !ADDRESS.test(virshOptions.migrationAddress)) throw new Error(`migrationAddress ${JSON.stringify(virshOptions.migrationAddress)} is not a host name or address`);
  }

  /** Takes one reading and adds it to the CPU window (queued behind any reading in progress). */
  private sample(): Promise<void> {
    const next = this.sampling.then(() => this.read());
    this.sampling = next.catch(() => {});
    return next;
  }

  private async read(): Promise<void> {
    const [stats, node] = await Promise.all([
      this.output([...this.virsh, "domstats", "--list-active", "--cpu-total", "--balloon", "--vcpu"]).then(parseDomstats),
      // Not every hypervisor driver has it; then other_cpu is simply not measured.
      this.output([...this.virsh, "nodecpustats"]).then(parseNodeCpuStats, () => undefined),
    ]);
    const at = this.now();
    const guests = new Map<string, GuestReading>();
    await Promise.all(
      [...stats].map(async ([name, s]) => {
        const cpuNs = cpuTime(s, name);
        const kib = statNumber(s, "balloon.current", name) ?? statNumber(s, "balloon.maximum", name);
        const vcpus = statNumber(s, "vcpu.current", name);
        if (cpuNs !== undefined && kib !== undefined && vcpus !== undefined) return void guests.set(name, { cpuNs, memKiB: kib, vcpus });
        // libvirt's test driver (and older daemons) leave fields out: dominfo has them all.
        const info = await this.output([...this.virsh, "dominfo", name]).then((t) => parseDominfo(t, name), () => undefined);
        if (!info && kib === undefined) throw new ParseError(`virsh domstats: ${name} has neither balloon.current nor balloon.maximum, and virsh dominfo ${name} failed`);
        guests.set(name, { cpuNs: cpuNs ?? info?.cpuNs, memKiB: kib ?? info!.memKiB, vcpus: vcpus ?? info?.vcpus ?? 1 });
      }),
    );
    const cpu = new Map<string, bigint>();
    for (const [name, g] of guests) if (g.cpuNs !== undefined) cpu.set(name, g.cpuNs);
    this.window.add({ at, hostBusyNs: node?.busyNs, guests: cpu });
    this.guests = guests;
  }

  private startSampling(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.sample().catch((e: Error) => this.context.log("warn", `CPU reading failed: ${e.message}`)), this.virshOptions.sampleMs ?? 1000);
    this.timer.unref();
  }

  protected async readHost(): Promise<HostReading> {
    // A fresh reading: the guest list is current, and an extra reading does not change the window's averages.
    await this.sample();
    if (!this.window.ready()) {
      await new Promise((r) => setTimeout(r, this.virshOptions.sampleMs ?? 1000));
      await this.sample();
    }
    this.startSampling();
    const [info, memStats] = await allSettled([
      this.nodeinfo(),
      this.output([...this.virsh, "nodememstats"]).then(parseNodeMemStats, () => undefined),
    ]);
    const reserve = this.virshOptions.reserveMem ?? 1024;
    const vms = [...this.guests].map(([name, g]) => ({ name, cpu: this.window.guestCpu(name), mem: Math.round(g.memKiB / 1024), vcpus: g.vcpus }));
    const otherCpu = this.window.otherCpu();
    const memAvail = memStats ? Math.max(0, Math.floor(memStats.availKiB / 1024) - reserve) : undefined;
    return {
      cpus: info.cpus,
      mem: Math.max(0, Math.floor(info.memKiB / 1024) - reserve),
      vms,
      otherCpu,
      memAvail,
      measured: measuredFields(otherCpu, memAvail),
    };
  }

  private nodeinfo(): Promise<VirshNodeInfo> {
    const now = performance.now();
    if (!this.nodeInfo || now - this.nodeInfo.at > 60_000) {
      const info = this.output([...this.virsh, "nodeinfo"]).then(parseNodeinfo);
      this.nodeInfo = { at: now, info };
      // A failure is not kept: the next facts ask again.
      info.catch(() => (this.nodeInfo = undefined));
    }
    return this.nodeInfo.info;
  }

  protected async listRunning(): Promise<string[]> {
    return parseNameList(await this.output([...this.virsh, "list", "--name"]));
  }

  /** The URI this host's libvirt is reached by from other hosts (see `advertiseUri`). */
  advertisedUri(): string {
    if (this.virshOptions.advertiseUri) return this.virshOptions.advertiseUri;
    const connect = this.virshOptions.connect;
    if (connect && /^[a-z0-9]+\+/i.test(connect)) return connect;
    let host = "localhost";
    try {
      host = new URL(this.context.url).hostname || host;
    } catch {
      // Not bound yet: only facts have been asked for.
    }
    return `qemu+ssh://${host}/system`;
  }

  /** Destination side: tells the source where this host's libvirt and data path are. Nothing is reserved. */
  async prepareIncoming(definition: VmDefinition, from: string): Promise<Record<string, unknown>> {
    if ((await this.listRunning().catch((e: unknown) => Promise.reject(this.unavailable(e)))).includes(definition.name)) {
      throw new DriverError(409, `VM ${definition.name} from ${from} already runs on ${this.name}`);
    }
    const address = this.virshOptions.migrationAddress;
    const host = address?.includes(":") ? `[${address}]` : address;
    return { uri: this.advertisedUri(), ...(address ? { migrate_uri: `tcp://${host}`, listen_address: address } : {}) };
  }

  async abortIncoming(): Promise<void> {
    // libvirt cleans up a failed incoming guest itself.
  }

  protected async migrateArgv(vm: string, _destination: string, to: MigrationTarget): Promise<string[]> {
    if (!this.virshOptions.unsafe) await this.checkSharedStorage(vm);
    const guest = this.guests.get(vm);
    const definition: VmDefinition = { name: vm, mem: Math.round((guest?.memKiB ?? 0) / 1024), vcpus: guest?.vcpus ?? 1, labels: {}, pinned: false, host: this.name };
    const peer = new AgentClient({ url: to.url, name: to.name, token: this.context.token, timeoutMs: 15_000 });
    let ready: Record<string, unknown>;
    try {
      ready = await peer.prepareIncoming(definition, this.name);
    } catch (e) {
      // The destination refusing the guest (already there, no room) is a conflict; anything else means it cannot take part.
      const conflict = e instanceof AgentClientError && e.status === 409;
      throw new DriverError(conflict ? 409 : 422, `destination host ${to.name} did not say where its libvirt is (POST /incoming/prepare): ${(e as Error).message}`);
    }
    const { uri, migrate_uri: dataUri, listen_address: listen } = ready;
    // Only what the checks below allow reaches virsh: a URI starting with "-" would be read as an option.
    if (typeof uri !== "string" || !LIBVIRT_URI.test(uri)) throw new DriverError(422, `destination host ${to.name} advertised the libvirt URI ${JSON.stringify(uri)}, not driver[+transport]://…`);
    if (dataUri !== undefined && (typeof dataUri !== "string" || !MIGRATE_URI.test(dataUri))) throw new DriverError(422, `destination host ${to.name} advertised the migration URI ${JSON.stringify(dataUri)}, not tcp://ADDRESS or unix:///PATH`);
    if (listen !== undefined && (typeof listen !== "string" || !ADDRESS.test(listen))) throw new DriverError(422, `destination host ${to.name} advertised the listen address ${JSON.stringify(listen)}`);
    return [
      ...this.virsh, "migrate", "--live", "--persistent", "--undefinesource",
      ...(this.virshOptions.unsafe ? ["--unsafe"] : []),
      ...(this.options.migrateOptions ?? []),
      vm, uri,
      ...(dataUri ? ["--migrateuri", dataUri] : []),
      ...(listen ? ["--listen-address", listen] : []),
    ];
  }

  /** Refuses (409) a guest with a writable disk that is not on shared storage: vmpolicy never copies storage. */
  private async checkSharedStorage(vm: string): Promise<void> {
    const disks = parseDisks(await this.output([...this.virsh, "dumpxml", vm]));
    const refusal = sharedStorageRefusal(disks);
    if (refusal) throw new DriverError(409, `VM ${vm} on ${this.name} cannot migrate live without copying storage: ${refusal}; vmpolicy never copies storage (put the disk on shared storage, attach it <readonly/> or <shareable/>, or set unsafe: true in this agent's config if it is shared in a way the agent cannot see)`);
  }

  protected override watchMigration(vm: string, report: (p: MigrationProgress) => void): () => void {
    let busy = false;
    const poll = setInterval(() => {
      if (busy) return;
      busy = true;
      this.output([...this.virsh, "domjobinfo", vm])
        .then((t) => {
          const p = parseDomjobinfo(t);
          if (p) report(p);
        }, () => {})
        .finally(() => (busy = false));
    }, 1000);
    poll.unref();
    return () => clearInterval(poll);
  }

  protected configFile(vm: string): string {
    return join(this.storage!.dir, `${vm}.xml`);
  }

  protected createArgv(file: string): string[] {
    return [...this.virsh, "create", file];
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    await super.close();
    await this.sampling;
  }
}

/** `cpu.time` in ns as a bigint: it passes 2^53 after ~104 days of CPU, and a delta must stay exact. */
function cpuTime(stats: ReadonlyMap<string, string>, name: string): bigint | undefined {
  const v = stats.get("cpu.time");
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ParseError(`virsh domstats: cpu.time of ${name} is ${JSON.stringify(v)}, not a whole number`);
  return BigInt(v);
}
