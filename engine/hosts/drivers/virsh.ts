/**
 * The `virsh` driver: a libvirt host (KVM/QEMU, or Xen through libxl) via
 * `virsh`. Facts come from `virsh nodeinfo` (CPUs, memory) and two samples
 * of `virsh domstats --list-active --cpu-total --balloon --vcpu` a short
 * interval apart: the growth of `cpu.time` (ns) over the interval is the
 * percent of one CPU; `balloon.current` (KiB) is the memory. A migration is
 * `virsh migrate --live --persistent DOMAIN qemu+ssh://DESTHOST/system` (URI
 * configurable); a restart is `virsh create STORAGE/<vm>.xml`. Process
 * handling lives in `ToolstackDriver`.
 */
import { join } from "node:path";
import { type HostReading, ToolstackDriver, allSettled, type ToolstackOptions } from "./xl-virsh-base.js";
import { type DomStats, type VirshNodeInfo, parseDomstats, parseNameList, parseNodeinfo, statNumber } from "./virsh-parse.js";
import { ParseError } from "./xl-parse.js";

export interface VirshHostOptions extends ToolstackOptions {
  /** Default `virsh` (found on PATH). */
  readonly virshBinary?: string;
  /** The local libvirt URI (`virsh -c URI`); default virsh's own default. */
  readonly connect?: string;
  /** Destination URI; `{host}` is replaced by the destination's address. Default `qemu+ssh://{host}/system`. */
  readonly migrateUri?: string;
  /** Between the two domstats samples (default 1000 ms). */
  readonly sampleMs?: number;
  /** MiB kept back from the node's memory for the host itself (default 1024, as the qemu driver). */
  readonly reserveMem?: number;
  /** Milliseconds clock for the sample interval (tests inject one). */
  readonly now?: () => number;
}

/** The default destination URI: libvirt's system instance on the destination, over ssh. */
export const DEFAULT_MIGRATE_URI = "qemu+ssh://{host}/system";

export class VirshDriver extends ToolstackDriver {
  readonly kind = "virsh";
  protected readonly tool = "virsh";
  private readonly virsh: string[];
  private readonly now: () => number;

  constructor(private readonly virshOptions: VirshHostOptions) {
    super(virshOptions);
    this.virsh = [virshOptions.virshBinary ?? "virsh", ...(virshOptions.connect ? ["-c", virshOptions.connect] : [])];
    this.now = virshOptions.now ?? (() => performance.now());
    const uri = virshOptions.migrateUri ?? DEFAULT_MIGRATE_URI;
    if (!uri.includes("{host}")) throw new Error(`migrateUri ${JSON.stringify(uri)} must contain {host}`);
  }

  private async sample(): Promise<{ at: number; stats: Map<string, DomStats> }> {
    const text = await this.output([...this.virsh, "domstats", "--list-active", "--cpu-total", "--balloon", "--vcpu"]);
    return { at: this.now(), stats: parseDomstats(text) };
  }

  protected async readHost(): Promise<HostReading> {
    const [info, first] = await allSettled<[VirshNodeInfo, { at: number; stats: Map<string, DomStats> }]>([this.output([...this.virsh, "nodeinfo"]).then(parseNodeinfo), this.sample()]);
    await new Promise((r) => setTimeout(r, this.virshOptions.sampleMs ?? 1000));
    const second = await this.sample();
    const elapsedNs = (second.at - first.at) * 1e6;
    if (!(elapsedNs > 0)) throw new ParseError(`virsh domstats: the two samples were taken ${second.at - first.at} ms apart`);
    const vms = [...second.stats].map(([name, s]) => {
      const t2 = cpuTime(s, name);
      const before = first.stats.get(name);
      // A guest that arrived between the samples has no interval yet: 0 until the next facts.
      const t1 = before ? cpuTime(before, name) : undefined;
      const cpu = t1 !== undefined && t2 !== undefined && t2 >= t1 ? Math.round((Number(t2 - t1) / elapsedNs) * 1000) / 10 : 0;
      const kib = statNumber(s, "balloon.current", name) ?? statNumber(s, "balloon.maximum", name);
      if (kib === undefined) throw new ParseError(`virsh domstats: ${name} has neither balloon.current nor balloon.maximum`);
      const vcpus = statNumber(s, "vcpu.current", name) ?? 1;
      return { name, cpu, mem: Math.round(kib / 1024), vcpus };
    });
    const mem = Math.max(0, Math.floor(info.memKiB / 1024) - (this.virshOptions.reserveMem ?? 1024));
    return { cpus: info.cpus, mem, vms };
  }

  protected async listRunning(): Promise<string[]> {
    return parseNameList(await this.output([...this.virsh, "list", "--name"]));
  }

  protected migrateArgv(vm: string, destination: string): string[] {
    const host = destination.includes(":") ? `[${destination}]` : destination;
    const uri = (this.virshOptions.migrateUri ?? DEFAULT_MIGRATE_URI).replaceAll("{host}", host);
    return [...this.virsh, "migrate", "--live", "--persistent", ...(this.options.migrateOptions ?? []), vm, uri];
  }

  protected configFile(vm: string): string {
    return join(this.storage!.dir, `${vm}.xml`);
  }

  protected createArgv(file: string): string[] {
    return [...this.virsh, "create", file];
  }
}

/** `cpu.time` in ns as a bigint: it passes 2^53 after ~104 days of CPU, and a delta must stay exact. */
function cpuTime(stats: DomStats, name: string): bigint | undefined {
  const v = stats.get("cpu.time");
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ParseError(`virsh domstats: cpu.time of ${name} is ${JSON.stringify(v)}, not a whole number`);
  return BigInt(v);
}
