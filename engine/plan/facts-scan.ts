/**
 * The fast path of reading a facts snapshot: one pass over the JSON text that
 * checks each field as it is read and builds the `Facts` directly, without
 * `JSON.parse`'s tree (a key string per field, an empty `labels` object per
 * VM) and without holding the whole text: a file is read through a 64 KiB
 * window. On the 20 MB snapshot of `facts_10k` this is what brings reading,
 * parsing and validating under `JSON.parse` of the text alone.
 *
 * It accepts the snapshots that are valid and plainly written (json-window.ts
 * says what plain is), and answers `null` for anything else: a repeated key,
 * a value of the wrong type, any invalid fact, a host header or VM that does
 * not fit the window. The caller (facts.ts) then reads the snapshot the
 * general way, `JSON.parse` and the validator, which reports every problem with
 * its path. So this path never decides what is valid: for every text it
 * accepts, the general way gives the same facts (test/engine/plan/facts-scan.test.ts compares the two
 * on generated and hand-written snapshots).
 */
import { HOST_STATES } from "../../grammar/types.js";
import { type HostFact, type HostStateName, MEASURED_FIELDS, type MeasuredFieldName, type VmFact } from "../types.js";
import { EMPTY_LABELS, FACT_BOUNDS } from "./fact-bounds.js";
import { type ByteSource, JsonWindow, LEAVE, leave, numberEnd, plainNumber, stringEnd, words } from "./json-window.js";
import { NameTable } from "./name-table.js";

export type { ByteSource } from "./json-window.js";

// Key numbers: a VM's and a host's fields, each a bit of the object's "seen" mask.
const VM_FIELDS = words(["name", "cpu", "mem", "labels", "pinned", "cpu_avg", "cpu_changes"]);
const HOST_FIELDS = words(["name", "state", "cpus", "mem", "labels", "vms", "other_cpu", "mem_avail", "measured"]);
const TOP_FIELDS = words(["hosts", "migrating", "recent"]);
const MEASURED = words(MEASURED_FIELDS);
const STATES = words(HOST_STATES);

/**
 * A snapshot's hosts, valid, with the tables of their names, and its
 * `migrating` and `recent` lists as `JSON.parse` would give them: facts.ts
 * checks those against the names as it checks any snapshot's.
 */
export interface ScannedFacts {
  hosts: HostFact[];
  hostAt: Map<string, number>;
  vmAt: NameTable;
  migrating: unknown;
  recent: unknown;
}

/**
 * About how many bytes a VM takes in a snapshot (`facts_10k`'s average is
 * 100): the name table is sized from the snapshot's size, so that it seldom
 * grows.
 */
const BYTES_PER_VM = 96;

/** The most VMs the name table is sized for at first (it grows past them), so a huge or sparse file allocates nothing large before it is read. */
const FIRST_CAPACITY = 1 << 18;

/** A snapshot of `size` bytes read from `source`, or null when the general path must read it. */
export function scanFactsSource(source: ByteSource, size: number): ScannedFacts | null {
  return run(new Scanner("", source, size));
}

/** A snapshot text, or null when the general path must read it. */
export function scanFactsText(text: string): ScannedFacts | null {
  return run(new Scanner(text, null, text.length));
}

function run(scanner: Scanner): ScannedFacts | null {
  try {
    return scanner.snapshot();
  } catch (err) {
    if (err === LEAVE) return null;
    throw err;
  }
}

class Scanner extends JsonWindow {
  private readonly hostAt = new Map<string, number>();
  private readonly vmAt: NameTable;
  /** The hosts read so far, and the VMs read so far of the host being read: where `vmAt` fetches a name. */
  private hostList: HostFact[] = [];
  private hostVms: VmFact[] = [];

  constructor(text: string, source: ByteSource | null, size: number) {
    super(text, source);
    this.vmAt = new NameTable(Math.min(Math.ceil(size / BYTES_PER_VM), FIRST_CAPACITY), (host, position) => (host < this.hostList.length ? this.hostList[host]!.vms : this.hostVms)[position]!.name);
  }

  snapshot(): ScannedFacts {
    let hosts: HostFact[] | null = null;
    let migrating: unknown;
    let recent: unknown;
    let seen = 0;
    this.ws();
    this.expect(123);
    this.ws();
    if (this.w.charCodeAt(this.p) !== 125) {
      for (;;) {
        const key = this.key(TOP_FIELDS);
        if ((seen & (1 << key)) !== 0) leave();
        seen |= 1 << key;
        if (key === 0) hosts = this.hosts();
        else if (key === 1) migrating = this.flatList();
        else recent = this.flatList();
        if (this.more(125)) continue;
        break;
      }
    }
    this.end();
    if (hosts === null) leave();
    return { hosts, hostAt: this.hostAt, vmAt: this.vmAt, migrating, recent };
  }

  private hosts(): HostFact[] {
    const out: HostFact[] = [];
    this.hostList = out;
    this.list(() => out.push(this.host(out.length)));
    return out;
  }

  private host(index: number): HostFact {
    let name = "";
    let state: HostStateName | null = null;
    let cpus = 0;
    let mem = -1;
    let labels = EMPTY_LABELS;
    let vms: VmFact[] | null = null;
    let otherCpu = -1;
    let memAvail = -1;
    let measured: MeasuredFieldName[] | null = null;
    this.fields(HOST_FIELDS, (key) => {
      switch (key) {
        case 0:
          name = this.name();
          if (this.hostAt.has(name)) leave();
          this.hostAt.set(name, index);
          break;
        case 1:
          state = this.state();
          break;
        case 2:
          cpus = this.number(FACT_BOUNDS.cpus);
          if (cpus === 0 || !Number.isInteger(cpus)) leave();
          break;
        case 3:
          mem = this.number(FACT_BOUNDS.mem);
          break;
        case 4:
          labels = this.labels();
          break;
        case 5:
          vms = this.vms(index);
          break;
        case 6:
          otherCpu = this.number(FACT_BOUNDS.cpu);
          break;
        case 7:
          memAvail = this.number(FACT_BOUNDS.mem);
          break;
        default:
          measured = this.measured();
      }
    });
    if (name === "" || state === null || cpus === 0 || mem < 0 || vms === null) leave();
    const host: HostFact = { name, state, cpus, mem, labels, vms };
    if (otherCpu < 0 && memAvail < 0 && measured === null) return host;
    return { ...host, ...(otherCpu >= 0 ? { other_cpu: otherCpu } : {}), ...(memAvail >= 0 ? { mem_avail: memAvail } : {}), ...(measured !== null ? { measured } : {}) };
  }

  private vms(host: number): VmFact[] {
    const out: VmFact[] = [];
    this.hostVms = out;
    this.list(() => out.push(this.writtenVm(host, out.length) ?? this.vm(host, out.length)));
    return out;
  }

  /**
   * A VM written as `JSON.stringify` writes a `VmFact` (every field, in
   * order, no white space: what the engine and the simulator save), read
   * by matching the fixed text between the values; null, with nothing
   * consumed or registered, when it is written any other way, for `vm` to
   * read. This is most of a large snapshot's text.
   */
  private writtenVm(host: number, slot: number): VmFact | null {
    const w = this.w;
    let p = this.p;
    if (!w.startsWith('{"name":"', p)) return null;
    const start = p + 9;
    const end = stringEnd(w, start);
    if (end <= start || !w.startsWith('","cpu":', (p = end))) return null;
    const cpu = plainNumber(w, p + 8, FACT_BOUNDS.cpu);
    if (cpu < 0 || !w.startsWith(',"mem":', (p = numberEnd))) return null;
    const mem = plainNumber(w, p + 7, FACT_BOUNDS.mem);
    if (mem < 0 || !w.startsWith(',"labels":{},"pinned":', (p = numberEnd))) return null;
    p += 22;
    let pinned: boolean;
    if (w.startsWith("false", p)) {
      pinned = false;
      p += 5;
    } else if (w.startsWith("true", p)) {
      pinned = true;
      p += 4;
    } else return null;
    if (!w.startsWith(',"cpu_avg":', p)) return null;
    const cpuAvg = plainNumber(w, p + 11, FACT_BOUNDS.cpu);
    if (cpuAvg < 0 || !w.startsWith(',"cpu_changes":', (p = numberEnd))) return null;
    const cpuChanges = plainNumber(w, p + 15, Number.MAX_VALUE);
    if (cpuChanges < 0 || w.charCodeAt(numberEnd) !== 125) return null;
    const name = w.slice(start, end);
    if (this.vmAt.add(name, host, slot) >= 0) leave();
    this.p = numberEnd + 1;
    return { name, cpu, mem, labels: EMPTY_LABELS, pinned, cpu_avg: cpuAvg, cpu_changes: cpuChanges };
  }

  /** Any VM the fast path takes (see `writtenVm` for the usual one). */
  private vm(host: number, slot: number): VmFact {
    let name = "";
    let cpu = -1;
    let mem = -1;
    let labels = EMPTY_LABELS;
    let pinned = false;
    let cpuAvg = -1;
    let cpuChanges = 0;
    this.fields(VM_FIELDS, (key) => {
      switch (key) {
        case 0:
          name = this.vmName(host, slot);
          break;
        case 1:
          cpu = this.number(FACT_BOUNDS.cpu);
          break;
        case 2:
          mem = this.number(FACT_BOUNDS.mem);
          break;
        case 3:
          labels = this.labels();
          break;
        case 4:
          pinned = this.boolean();
          break;
        case 5:
          cpuAvg = this.number(FACT_BOUNDS.cpu);
          break;
        default:
          cpuChanges = this.number(Number.MAX_VALUE);
      }
    });
    if (name === "" || cpu < 0 || mem < 0) leave();
    return { name, cpu, mem, labels, pinned, cpu_avg: cpuAvg < 0 ? cpu : cpuAvg, cpu_changes: cpuChanges };
  }

  /** `{}` is the shared empty labels; others are copied into a prototype-free object, as the general path does. */
  private labels(): Readonly<Record<string, string>> {
    let out: Record<string, string> | null = null;
    this.members((key) => {
      out ??= Object.create(null) as Record<string, string>;
      this.ws();
      out[key] = this.string();
    });
    return out ?? EMPTY_LABELS;
  }

  private measured(): MeasuredFieldName[] {
    const out: MeasuredFieldName[] = [];
    this.list(() => {
      this.ws();
      const field = MEASURED_FIELDS[this.oneOf(MEASURED)]!;
      if (out.includes(field)) leave();
      out.push(field);
    });
    return out;
  }

  private state(): HostStateName {
    this.ws();
    return HOST_STATES[this.oneOf(STATES)]!;
  }

  /**
   * A list of flat objects (`migrating`, `recent`): strings, numbers, true,
   * false and null, built as `JSON.parse` would build them, for the general
   * path's checks of what they name.
   */
  private flatList(): unknown[] {
    const out: unknown[] = [];
    this.list(() => {
      const item: Record<string, unknown> = {};
      this.members((key) => {
        // JSON.parse makes `__proto__` an own field; an assignment would set the prototype.
        if (key === "__proto__" || Object.hasOwn(item, key)) leave();
        item[key] = this.flatValue();
      });
      out.push(item);
    });
    return out;
  }














  /** A VM's name, registered (a repeated one leaves). */
  private vmName(host: number, slot: number): string {
    const name = this.name();
    if (this.vmAt.add(name, host, slot) >= 0) leave();
    return name;
  }


}
