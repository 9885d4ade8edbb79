/**
 * The `xl` driver: a Xen host through its toolstack, as in the thesis's
 * testbed. Facts come from `xl info` (CPUs, memory), `xl list -l` (the
 * guests, their memory and vCPUs; Domain-0 and domains in transit skipped)
 * and `xentop -b -i 2 -d 1` (CPU(%) of the second sample: percent of one
 * CPU, exactly SPEC 1's `vm.cpu`). A migration is `xl migrate DOMAIN
 * DESTHOST` (xl's own live migration over ssh); a restart is `xl create
 * STORAGE/<vm>.cfg`. Process handling lives in `ToolstackDriver`.
 */
import { join } from "node:path";
import { type HostReading, ToolstackDriver, allSettled, type ToolstackOptions } from "./xl-virsh-base.js";
import { XL_TRANSIT_SUFFIXES, parseXentop, parseXlInfo, parseXlList, xentopRowFor } from "./xl-parse.js";

export interface XlHostOptions extends ToolstackOptions {
  /** Default `xl` (found on PATH). */
  readonly xlBinary?: string;
  /** Default `xentop`. */
  readonly xentopBinary?: string;
  /** Default `["-b", "-i", "2", "-d", "1"]`; add `-f` (recent xentop) to see names longer than 10 characters in full. */
  readonly xentopArgs?: readonly string[];
}

/** Rounds CPU percent to the one decimal xentop prints. */
function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export class XlDriver extends ToolstackDriver {
  readonly kind = "xl";
  protected readonly tool = "xl";
  private readonly xl: string;
  private readonly xentop: string;

  constructor(private readonly xlOptions: XlHostOptions) {
    super(xlOptions);
    this.xl = xlOptions.xlBinary ?? "xl";
    this.xentop = xlOptions.xentopBinary ?? "xentop";
  }

  protected async readHost(): Promise<HostReading> {
    const [info, list, top] = await allSettled<[string, string, string]>([
      this.output([this.xl, "info"]),
      this.output([this.xl, "list", "-l"]),
      this.output([this.xentop, ...(this.xlOptions.xentopArgs ?? ["-b", "-i", "2", "-d", "1"])]),
    ]);
    const host = parseXlInfo(info);
    const guests = parseXlList(list).filter((d) => d.domid !== 0 && d.name !== "Domain-0" && !XL_TRANSIT_SUFFIXES.some((s) => d.name.endsWith(s)));
    const rows = parseXentop(top);
    const names = guests.map((d) => d.name);
    const vms = guests.map((d) => {
      const row = xentopRowFor(d.name, rows, names);
      if (!row) this.context.log("warn", `xentop shows no row for ${d.name}${d.name.length > 10 ? " (its name is cut to 10 characters and shared; add -f to the xentop arguments)" : ""}: reporting cpu 0`, { vm: d.name });
      return { name: d.name, cpu: round1(row?.cpu ?? 0), mem: Math.round(d.memKiB / 1024), vcpus: d.vcpus };
    });
    // free_memory is what Xen has not given to any domain, so mem − Σ vm.mem (the engine's mem_free) is exactly it.
    const mem = host.freeMemory + vms.reduce((s, v) => s + v.mem, 0);
    return { cpus: host.cpus, mem, vms };
  }

  protected async listRunning(): Promise<string[]> {
    return parseXlList(await this.output([this.xl, "list", "-l"]))
      .filter((d) => d.domid !== 0 && !XL_TRANSIT_SUFFIXES.some((s) => d.name.endsWith(s)))
      .map((d) => d.name);
  }

  protected migrateArgv(vm: string, destination: string): string[] {
    return [this.xl, "migrate", ...(this.options.migrateOptions ?? []), vm, destination];
  }

  protected configFile(vm: string): string {
    return join(this.storage!.dir, `${vm}.cfg`);
  }

  protected createArgv(file: string): string[] {
    return [this.xl, "create", file];
  }
}
