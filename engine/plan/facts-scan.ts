/**
 * The fast path of reading a facts snapshot: one pass over the JSON text that
 * checks each field as it is read and builds the `Facts` directly, without
 * `JSON.parse`'s tree (a key string per field, an empty `labels` object per
 * VM) and without holding the whole text: a file is read through a 64 KiB
 * window. On the 20 MB snapshot of `facts_10k` this is what brings reading,
 * parsing and validating under `JSON.parse` of the text alone.
 *
 * It accepts a subset of JSON, the snapshots that are valid and plainly
 * written, and answers `null` for anything else: a string with an escape or a
 * non-ASCII character, a minus sign, a repeated key, a value of the wrong
 * type, any invalid fact, a host header or VM longer than 16 KiB. The caller then reads the snapshot
 * the general way (`parseFactsJson`), which reports every problem with its
 * path. So this path never decides what is valid: for every text it accepts,
 * `parseFactsJson` gives the same facts (test/engine/plan/facts-scan.test.ts
 * compares the two on generated and hand-written snapshots).
 *
 * Numbers are exact: an integer mantissa of at most 15 digits divided by a
 * power of ten up to 10^15 is one correctly rounded IEEE division of two
 * exact doubles, the value `JSON.parse` gives (Clinger's fast path); longer
 * ones go through `Number`.
 */
import { HOST_STATES } from "../../grammar/types.js";
import { type HostFact, type HostStateName, MEASURED_FIELDS, type MeasuredFieldName, type VmFact } from "../types.js";
import { EMPTY_LABELS, FACT_BOUNDS } from "./fact-bounds.js";
import { NameTable } from "./name-table.js";

/** Reads up to `length` bytes into `into` at `offset`; returns how many, 0 at the end (`fs.readSync`'s shape). */
export type ByteSource = (into: Uint8Array, offset: number, length: number) => number;

/** The window's size, and how much of it must be left unread before a host or VM is read (else it is refilled). */
const WINDOW = 64 * 1024;
const MARGIN = 16 * 1024;

/** Thrown to leave the scan; one shared value, so leaving captures no stack. */
const LEAVE = Symbol("leave the fast path");

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * A set of words matched in place. A word of printable ASCII up to 14
 * characters is packed exactly into two integers below 2^53 (seven 7-bit
 * characters each), so a key read from the text is compared as two numbers
 * and a length, without making a string.
 */
interface Words {
  list: readonly string[];
  high: Float64Array;
  low: Float64Array;
  length: Int8Array;
}

const PACKED = 7;

function words(list: readonly string[]): Words {
  const high = new Float64Array(list.length);
  const low = new Float64Array(list.length);
  const length = new Int8Array(list.length);
  list.forEach((word, i) => {
    if (word.length > 2 * PACKED) throw new Error(`facts-scan: ${word} is longer than ${2 * PACKED} characters`);
    for (let k = 0; k < word.length; k++) {
      if (k < PACKED) high[i] = high[i]! * 128 + word.charCodeAt(k);
      else low[i] = low[i]! * 128 + word.charCodeAt(k);
    }
    length[i] = word.length;
  });
  return { list, high, low, length };
}

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

function leave(): never {
  throw LEAVE;
}

class Scanner {
  /** The text being read: the window of a source, or the whole text. */
  private w: string;
  private p = 0;
  private readonly bytes: Buffer | null;
  private filled = 0;
  private ended: boolean;
  private readonly hostAt = new Map<string, number>();
  private readonly vmAt: NameTable;
  /** The hosts read so far, and the VMs read so far of the host being read: where `vmAt` fetches a name. */
  private hostList: HostFact[] = [];
  private hostVms: VmFact[] = [];

  constructor(
    text: string,
    private readonly source: ByteSource | null,
    size: number,
  ) {
    this.vmAt = new NameTable(Math.min(Math.ceil(size / BYTES_PER_VM), FIRST_CAPACITY), (host, position) => (host < this.hostList.length ? this.hostList[host]!.vms : this.hostVms)[position]!.name);
    this.w = text;
    this.ended = source === null;
    this.bytes = source === null ? null : Buffer.allocUnsafe(WINDOW);
    this.refill();
  }

  /** Keeps at least MARGIN characters ahead (or all that is left) in the window: called before each host and VM. */
  private refill(): void {
    if (this.ended || this.w.length - this.p >= MARGIN) return;
    const bytes = this.bytes!;
    const kept = this.filled - this.p;
    bytes.copyWithin(0, this.p, this.filled);
    let filled = kept;
    while (filled < WINDOW) {
      const n = this.source!(bytes, filled, WINDOW - filled);
      if (n === 0) {
        this.ended = true;
        break;
      }
      filled += n;
    }
    this.filled = filled;
    // Latin-1 keeps one character per byte; any byte above 126 makes the scan leave, and the general path decodes UTF-8.
    this.w = bytes.toString("latin1", 0, filled);
    this.p = 0;
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
    // Only white space may follow, to the end of the source.
    for (;;) {
      this.ws();
      if (this.p < this.w.length) leave();
      if (this.ended) break;
      this.refill();
    }
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

  /** A list, `item` reading each element; the window is refilled before each. */
  private list(item: () => void): void {
    this.ws();
    this.expect(91);
    this.ws();
    if (this.w.charCodeAt(this.p) === 93) {
      this.p++;
      return;
    }
    do {
      this.refill();
      item();
    } while (this.more(93));
  }

  /** An object, `member` reading each value after its key and colon. */
  private members(member: (key: string) => void): void {
    this.ws();
    this.expect(123);
    this.ws();
    if (this.w.charCodeAt(this.p) === 125) {
      this.p++;
      return;
    }
    do {
      this.ws();
      const key = this.string();
      this.colon();
      member(key);
    } while (this.more(125));
  }

  /** An object of at least one field, each one of `keys` and given once, `field` reading each value. */
  private fields(keys: Words, field: (key: number) => void): void {
    this.ws();
    this.expect(123);
    this.ws();
    if (this.w.charCodeAt(this.p) === 125) leave();
    let seen = 0;
    do {
      const key = this.key(keys);
      if ((seen & (1 << key)) !== 0) leave();
      seen |= 1 << key;
      field(key);
    } while (this.more(125));
  }

  private flatValue(): string | number | boolean | null {
    this.ws();
    const c = this.w.charCodeAt(this.p);
    if (c === 34) return this.string();
    if (c === 116) return this.literal("true", true);
    if (c === 102) return this.literal("false", false);
    if (c === 110) return this.literal("null", null);
    return this.number(Number.MAX_VALUE);
  }

  private boolean(): boolean {
    this.ws();
    const c = this.w.charCodeAt(this.p);
    if (c === 116) return this.literal("true", true);
    if (c === 102) return this.literal("false", false);
    return leave();
  }

  private literal<T>(word: string, value: T): T {
    if (!this.w.startsWith(word, this.p)) leave();
    this.p += word.length;
    return value;
  }

  /** After a member or item: true after a comma, false after `close`; anything else leaves. */
  private more(close: number): boolean {
    this.ws();
    const c = this.w.charCodeAt(this.p++);
    if (c === 44) return true;
    if (c === close) return false;
    return leave();
  }

  private ws(): void {
    const w = this.w;
    let p = this.p;
    for (;;) {
      const c = w.charCodeAt(p);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      p++;
    }
    this.p = p;
  }

  private expect(code: number): void {
    if (this.w.charCodeAt(this.p) !== code) leave();
    this.p++;
  }

  private colon(): void {
    this.ws();
    this.expect(58);
  }

  /** A member's key, as its index in `keys`, and the colon after it. */
  private key(keys: Words): number {
    this.ws();
    const k = this.oneOf(keys);
    this.colon();
    return k;
  }

  /** A string that is one of `words`, as its index; matched in place, without making the string. */
  private oneOf(words: Words): number {
    const w = this.w;
    const start = this.p + 1;
    const end = this.w.charCodeAt(this.p) === 34 ? stringEnd(w, start) : -1;
    const length = end - start;
    if (end < 0 || length > 2 * PACKED) leave();
    let high = 0;
    let low = 0;
    for (let p = start; p < end; p++) {
      if (p - start < PACKED) high = high * 128 + w.charCodeAt(p);
      else low = low * 128 + w.charCodeAt(p);
    }
    for (let i = 0; i < words.list.length; i++) {
      if (words.high[i] === high && words.low[i] === low && words.length[i] === length) {
        this.p = end + 1;
        return i;
      }
    }
    return leave();
  }

  /** A string of printable ASCII without escapes. */
  private string(): string {
    const start = this.p + 1;
    const end = this.w.charCodeAt(this.p) === 34 ? stringEnd(this.w, start) : -1;
    if (end < 0) leave();
    this.p = end + 1;
    return this.w.slice(start, end);
  }

  /** A VM's name, registered (a repeated one leaves). */
  private vmName(host: number, slot: number): string {
    const name = this.name();
    if (this.vmAt.add(name, host, slot) >= 0) leave();
    return name;
  }

  private name(): string {
    this.ws();
    const s = this.string();
    if (s.length === 0) leave();
    return s;
  }

  /** A number ≥ 0 and ≤ `bound`, written plainly (see the file's comment). */
  private number(bound: number): number {
    this.ws();
    const value = plainNumber(this.w, this.p, bound);
    if (value < 0) leave();
    this.p = numberEnd;
    return value;
  }
}

/**
 * The index of the quote that ends the string whose text starts at `p`, or
 * -1 at an escape, a control character, a character past ASCII or the end
 * of the text.
 */
function stringEnd(w: string, p: number): number {
  for (;;) {
    const c = w.charCodeAt(p);
    if (c === 34) return p;
    if (!(c >= 32 && c <= 126 && c !== 92)) return -1;
    p++;
  }
}

/** Where the last `plainNumber` ended. */
let numberEnd = 0;

/**
 * The number written at `w[p]` if it is ≥ 0 and ≤ `bound`, its end in
 * `numberEnd`; -1 otherwise, and for a minus sign (the general path tells
 * -0, which it takes, from the others). Up to 15 digits without an exponent
 * (what most facts are) it is computed here; any other, such as the
 * 17-digit averages the engine writes, is converted by `Number`, which is
 * JSON.parse's own conversion.
 */
function plainNumber(w: string, p: number, bound: number): number {
  const start = p;
  let c = w.charCodeAt(p);
  if (!(c >= 48 && c <= 57)) return -1;
  let m = c - 48;
  let digits = 1;
  c = w.charCodeAt(++p);
  if (m === 0) {
    if (c >= 48 && c <= 57) return -1;
  } else {
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      c = w.charCodeAt(++p);
    }
  }
  let scale = 0;
  if (c === 46) {
    c = w.charCodeAt(++p);
    while (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
      scale++;
      c = w.charCodeAt(++p);
    }
    if (scale === 0) return -1;
  }
  let exact = digits <= 15;
  if (c === 101 || c === 69) {
    exact = false;
    c = w.charCodeAt(++p);
    if (c === 43 || c === 45) c = w.charCodeAt(++p);
    if (!(c >= 48 && c <= 57)) return -1;
    while (c >= 48 && c <= 57) c = w.charCodeAt(++p);
  }
  const value = !exact ? Number(w.slice(start, p)) : scale === 0 ? m : m / POW10[scale]!;
  if (!(value <= bound)) return -1;
  numberEnd = p;
  return value;
}
