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
import { type HostReading, ToolstackDriver, allSettled, type ToolstackOptions } from "../command-driver.js";
import { XENTOP_NAME_WIDTH, XL_TRANSIT_SUFFIXES, parseXentop, parseXlInfo, parseXlList, xentopRowFor } from "./parse.js";
import { measuredFields } from "../cpu-window.js";

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
  /** Domains `xl list -l` skips, warned about once each. */
  private readonly warnedUnlisted = new Set<string>();

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
    const domains = parseXlList(list);
    const guests = domains.filter((d) => d.domid !== 0 && d.name !== "Domain-0" && !XL_TRANSIT_SUFFIXES.some((s) => d.name.endsWith(s)));
    const rows = parseXentop(top);
    const names = guests.map((d) => d.name);
    // Domain-0's row is the CPU used outside the guests; a domain xentop shows but `xl list -l` skips
    // (libxl could not retrieve its configuration) is not a guest the agent can move, but its CPU is real.
    const listed = domains.map((d) => d.name);
    const unlisted = rows.filter((r) => r.name !== "Domain-0" && !listed.some((n) => n === r.name || (n.length > XENTOP_NAME_WIDTH && n.slice(0, XENTOP_NAME_WIDTH) === r.name)));
    for (const r of unlisted) {
      if (this.warnedUnlisted.has(r.name)) continue;
      this.warnedUnlisted.add(r.name);
      this.context.log("warn", `domain ${r.name} runs on ${this.name} (xentop) but xl list -l skips it (no configuration retrievable): not reported as a VM, its CPU counts as other_cpu`, { vm: r.name });
    }
    const dom0 = rows.find((r) => r.name === "Domain-0");
    const otherCpu = dom0 ? round1(dom0.cpu + unlisted.reduce((s, r) => s + r.cpu, 0)) : undefined;
    const vms = guests.map((d) => {
      const row = xentopRowFor(d.name, rows, names);
      if (!row) this.context.log("warn", `xentop shows no row for ${d.name}${d.name.length > 10 ? " (its name is cut to 10 characters and shared; add -f to the xentop arguments)" : ""}: reporting cpu 0`, { vm: d.name });
      return { name: d.name, cpu: round1(row?.cpu ?? 0), mem: Math.round(d.memKiB / 1024), vcpus: d.vcpus };
    });
    // free_memory is what Xen has not given to any domain, so mem − Σ vm.mem (the engine's mem_free) is exactly it.
    const mem = host.freeMemory + vms.reduce((s, v) => s + v.mem, 0);
    // free_memory is measured by Xen: what a new guest can get now.
    return { cpus: host.cpus, mem, vms, otherCpu, memAvail: host.freeMemory, measured: measuredFields(otherCpu, host.freeMemory) };
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
