/**
 * Facts snapshots (SPEC 1): JSON text in, a validated `Facts` out, or every
 * problem with its JSON path. Nothing is planned from a snapshot that fails
 * here, so the planner never meets a negative CPU, a duplicate name or an
 * in-flight migration naming an unknown host.
 */
import { isAscii } from "node:buffer";
import { suggest } from "../../grammar/suggest.js";
import { HOST_STATES } from "../../grammar/types.js";
import { locateJsonError } from "../json-errors.js";
import { EMPTY_LABELS, FACT_BOUNDS } from "./fact-bounds.js";
import { type ByteSource, type ScannedFacts, scanFactsSource, scanFactsText } from "./facts-scan.js";
import { NameTable } from "./name-table.js";
import { type FactError, type Facts, type HostFact, type HostStateName, MEASURED_FIELDS, type MeasuredFieldName, type MigrationFact, type RecentFact, type VmFact } from "../types.js";

/** What `validateFacts` and `parseFactsJson` return. */
export type FactsResult = { ok: true; facts: Facts } | { ok: false; errors: FactError[] };

const TOP_KEYS = ["hosts", "migrating", "recent"];
const HOST_KEYS = ["name", "state", "cpus", "mem", "labels", "vms", "other_cpu", "mem_avail", "measured"];
const VM_KEYS = ["name", "cpu", "mem", "labels", "pinned", "cpu_avg", "cpu_changes"];
const MIGRATION_KEYS = ["vm", "from", "to"];
const RECENT_KEYS = ["vm", "seconds_ago"];

export { FACT_BOUNDS } from "./fact-bounds.js";

const NUMBER = "must be a finite number ≥ 0";
const POSITIVE_INT = "must be a positive integer";

/** What an out-of-range value is told, per bounded field. */
const TOO_LARGE = {
  cpus: `must be at most ${FACT_BOUNDS.cpus} (logical CPUs)`,
  cpu: `must be at most ${FACT_BOUNDS.cpu} (percent of one CPU: ${FACT_BOUNDS.cpus} CPUs fully busy)`,
  mem: `must be at most ${FACT_BOUNDS.mem} (MiB, that is 1 PiB)`,
  seconds_ago: `must be at most ${FACT_BOUNDS.seconds_ago} (seconds, about 31 years)`,
} as const;
const NAME = "must be a non-empty string";

/**
 * Checks a parsed snapshot against SPEC 1 and reports all problems, each
 * with its path (`hosts[2].vms[0].cpu: must be a finite number ≥ 0`).
 * Unknown fields are errors (a typo such as `cpu_avgs` would otherwise
 * silently fall back to a default). On success the facts carry every
 * default filled in: `labels` {}, `pinned` false, `cpu_avg` = `cpu`, `cpu_changes` 0,
 * `migrating` and `recent` [].
 */
export function validateFacts(input: unknown): FactsResult {
  return validate(input, false);
}

function validate(input: unknown, adopt: boolean): FactsResult {
  const v = new Validator(adopt);
  const facts = v.top(input);
  return v.errors.length > 0 || facts === null ? { ok: false, errors: v.errors } : { ok: true, facts };
}

/**
 * Parses JSON text and validates it; a syntax error is reported as
 * `FILE:LINE:COL` with what is wrong. A plainly written valid snapshot is read
 * by the fast path (facts-scan.ts); anything else, and every error, by
 * `JSON.parse` and the validator.
 */
export function parseFactsJson(text: string, file: string): FactsResult {
  const body = withoutBom(text);
  const fast = finishScan(scanFactsText(body));
  if (fast !== null) return { ok: true, facts: fast };
  return parseGeneral(body, file);
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * A snapshot of `size` bytes read in pieces from `source` (a file: it is
 * never held whole), or, when the fast path cannot read it, from `whole()`'s
 * bytes by the general path (not the fast path again: it has just left
 * this text).
 */
export function parseFactsSource(source: ByteSource, size: number, whole: () => Buffer, file: string): FactsResult {
  const fast = finishScan(scanFactsSource(source, size));
  if (fast !== null) return { ok: true, facts: fast };
  return parseGeneral(withoutBom(factsText(whole())), file);
}

/** The fast path's snapshot with its `migrating` and `recent` checked; null when they hold a problem (the general path reports it). */
function finishScan(scanned: ScannedFacts | null): Facts | null {
  if (scanned === null) return null;
  const { hosts, hostAt, vmAt } = scanned;
  const v = new Validator(false);
  const hostOfVm = (vm: string): string | null => {
    const at = vmAt.find(vm);
    return at < 0 ? null : hosts[vmAt.hostOf(at)]!.name;
  };
  const migrating = v.migrating(scanned.migrating, hostAt, vmAt, true, hostOfVm);
  const recent = v.recent(scanned.recent, vmAt, true);
  return migrating === null || recent === null ? null : { hosts, migrating, recent };
}

function parseGeneral(body: string, file: string): FactsResult {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (err) {
    const at = locateJsonError(body, err instanceof Error ? err.message : "");
    return { ok: false, errors: [{ path: `${file}:${at.line}:${at.column}`, message: `invalid JSON: ${at.message}` }] };
  }
  // The parsed tree is ours: its complete VM objects become the facts' VMs (see `Validator.adopt`).
  return validate(input, true);
}

/**
 * The text of a facts file. A snapshot is ASCII in practice (names and
 * numbers), and ASCII read as Latin-1 is the same string for a fraction of
 * UTF-8 decoding's cost (on the 17.6 MB snapshot of `facts_10k`: ~20 ms
 * against ~120 ms); anything else is decoded as UTF-8.
 */
export function factsText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
}

/** One line per error, `PATH: MESSAGE`, for the CLI and the engine's log. */
export function formatFactErrors(errors: readonly FactError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join("\n");
}

// ---------------------------------------------------------------- validation

type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x) && x >= 0;
}

/** `VM_KEYS.includes(key)` without a lookup: JSON.parse's keys and these literals are internalized, so each test compares pointers. */
function isVmKey(key: string): boolean {
  return key === "name" || key === "cpu" || key === "mem" || key === "labels" || key === "pinned" || key === "cpu_avg" || key === "cpu_changes";
}

/** `{}`, the labels of nearly every VM: answered without building the path `labels` would report under. */
function isEmptyObject(x: unknown): boolean {
  if (!isObject(x)) return false;
  for (const _ in x) return false;
  return true;
}

/** `labels.rack` for plain keys, `labels["a b"]` otherwise, so a path can be pasted into a query. */
function member(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * One walk over the snapshot: each host and VM is checked field by field and
 * its name registered for the uniqueness checks in the same visit. A path
 * (`hosts[3].vms[7].cpu`) is built only for an error.
 */
class Validator {
  readonly errors: FactError[] = [];
  /**
   * Duplicate names, found during the walk but reported after every field
   * error, and found on the raw input, so a bad field elsewhere in a host
   * hides no duplicate.
   */
  private readonly nameErrors: FactError[] = [];
  /** The raw `hosts` list, for naming the host of a duplicate VM. */
  private rawHosts: readonly unknown[] = [];
  /** Host name → index of its first host. */
  private readonly hostAt = new Map<string, number>();
  /** Every VM name with where it was first seen (sized in `hosts`, once the VMs are counted). */
  private vmAt = new NameTable(0, () => "");
  /** Whether every host and VM had a readable name (references to unknown names are checked only then: no follow-on noise). */
  private namesComplete = true;

  /**
   * With `adopt`, a VM object of the input that has all six fields (the
   * usual case) is itself the `VmFact`, its labels replaced by their
   * prototype-free copy, instead of being copied field by field: 200,000
   * fewer objects for the garbage collector to move. Only for input nobody
   * else holds (parseFactsJson's own parse). An unknown field fails the whole
   * snapshot, so an adopted object never carries one.
   */
  constructor(private readonly adopt: boolean) {}

  private fail(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  top(input: unknown): Facts | null {
    if (!isObject(input)) {
      this.fail("(top level)", "must be an object with a hosts list");
      return null;
    }
    this.unknownKeys(input, "", TOP_KEYS);
    const hosts = this.hosts(input.hosts);
    for (const e of this.nameErrors) this.errors.push(e);
    const namesKnown = Array.isArray(input.hosts) && this.namesComplete;
    const hostOfVm = (vm: string): string | null => {
      const at = this.vmAt.find(vm);
      const h = at < 0 ? undefined : this.rawHosts[this.vmAt.hostOf(at)];
      return isObject(h) && typeof h.name === "string" ? h.name : null;
    };
    const migrating = this.migrating(input.migrating, this.hostAt, this.vmAt, namesKnown, hostOfVm);
    const recent = this.recent(input.recent, this.vmAt, namesKnown);
    if (hosts === null || migrating === null || recent === null) return null;
    return { hosts, migrating, recent };
  }

  private unknownKeys(obj: Obj, path: string, known: readonly string[]): void {
    for (const key in obj) {
      if (known.includes(key)) continue;
      const near = suggest(key, known, 2) ?? undefined;
      const p = path === "" ? key : member(path, key);
      this.fail(p, `unknown field${near === undefined ? "" : ` (did you mean ${near}?)`}; expected ${known.join(", ")}`);
    }
  }

  private hosts(input: unknown): HostFact[] | null {
    if (input === undefined) {
      this.fail("hosts", "is missing: must be a list of hosts");
      return null;
    }
    if (!Array.isArray(input)) {
      this.fail("hosts", "must be a list of hosts");
      return null;
    }
    this.rawHosts = input;
    let vmCount = 0;
    for (const h of input) if (isObject(h) && Array.isArray(h.vms)) vmCount += h.vms.length;
    // Only a VM with a string name is added, so its name is there to fetch.
    this.vmAt = new NameTable(vmCount, (host, position) => ((input[host] as Obj).vms as Obj[])[position]!.name as string);
    const out: HostFact[] = [];
    let ok = true;
    for (let i = 0; i < input.length; i++) {
      const h = this.host(input[i], i);
      if (h === null) ok = false;
      else out.push(h);
    }
    return ok ? out : null;
  }

  private host(input: unknown, index: number): HostFact | null {
    const path = `hosts[${index}]`;
    if (!isObject(input)) {
      this.fail(path, "must be an object");
      this.namesComplete = false;
      return null;
    }
    this.registerHost(input.name, index);
    if (!Array.isArray(input.vms)) this.namesComplete = false;
    const before = this.errors.length;
    this.unknownKeys(input, path, HOST_KEYS);
    const name = this.name(input, "name", path);
    const state = input.state;
    if (state === undefined) this.fail(`${path}.state`, `is missing: must be one of ${HOST_STATES.join(", ")}`);
    else if (typeof state !== "string" || !(HOST_STATES as readonly string[]).includes(state)) {
      this.fail(`${path}.state`, `must be one of ${HOST_STATES.join(", ")}`);
    }
    const cpus = input.cpus;
    if (cpus === undefined) this.fail(`${path}.cpus`, `is missing: ${POSITIVE_INT}`);
    else if (typeof cpus !== "number" || !Number.isInteger(cpus) || cpus <= 0) this.fail(`${path}.cpus`, POSITIVE_INT);
    else if (cpus > FACT_BOUNDS.cpus) this.fail(`${path}.cpus`, TOO_LARGE.cpus);
    const mem = this.number(input, "mem", path, true, "mem");
    const labels = this.labels(input.labels, `${path}.labels`);
    const otherCpu = this.number(input, "other_cpu", path, false, "cpu");
    const memAvail = this.number(input, "mem_avail", path, false, "mem");
    const measured = this.measured(input.measured, `${path}.measured`);
    let vms: VmFact[] = [];
    if (input.vms === undefined) this.fail(`${path}.vms`, "is missing: must be a list of VMs (write [] for none)");
    else if (!Array.isArray(input.vms)) this.fail(`${path}.vms`, "must be a list of VMs");
    else vms = this.vms(input.vms, index);
    if (this.errors.length > before) return null;
    const host: HostFact = { name: name!, state: state as HostStateName, cpus: cpus as number, mem: mem!, labels, vms };
    if (otherCpu === null && memAvail === null && measured === undefined) return host;
    return { ...host, ...(otherCpu !== null ? { other_cpu: otherCpu } : {}), ...(memAvail !== null ? { mem_avail: memAvail } : {}), ...(measured ? { measured } : {}) };
  }

  /** `measured`: a list of the measurable field names, each once. */
  private measured(input: unknown, path: string): MeasuredFieldName[] | undefined {
    if (input === undefined) return undefined;
    const what = `must be a list of field names (${MEASURED_FIELDS.join(", ")})`;
    if (!Array.isArray(input)) {
      this.fail(path, what);
      return undefined;
    }
    const out: MeasuredFieldName[] = [];
    input.forEach((f, i) => {
      if (typeof f !== "string" || !(MEASURED_FIELDS as readonly string[]).includes(f)) this.fail(`${path}[${i}]`, `${JSON.stringify(f)} is not a measurable field: ${what}`);
      else if (out.includes(f as MeasuredFieldName)) this.fail(`${path}[${i}]`, `${f} is listed twice`);
      else out.push(f as MeasuredFieldName);
    });
    return out;
  }

  /** The hot loop of a 200k-VM snapshot: no path, closure or temporary object unless there is an error. */
  private vms(input: unknown[], host: number): VmFact[] {
    const path = `hosts[${host}].vms`;
    const out: VmFact[] = [];
    for (let i = 0; i < input.length; i++) {
      const vm = input[i];
      if (!isObject(vm)) {
        this.fail(`${path}[${i}]`, "must be an object");
        this.namesComplete = false;
        continue;
      }
      for (const key in vm) {
        if (!isVmKey(key)) {
          this.unknownKeys(vm, `${path}[${i}]`, VM_KEYS);
          break;
        }
      }
      const name = vm.name;
      if (typeof name === "string" && name.length > 0) this.registerVm(name, host, i);
      else this.namesComplete = false;
      const cpu = vm.cpu;
      const mem = vm.mem;
      const cpuAvg = vm.cpu_avg;
      const cpuChanges = vm.cpu_changes;
      const pinned = vm.pinned;
      let ok = true;
      if (typeof name !== "string" || name.length === 0) ok = this.bad(vm, "name", `${path}[${i}]`, NAME);
      if (!isNumber(cpu)) ok = this.bad(vm, "cpu", `${path}[${i}]`, NUMBER);
      else if (cpu > FACT_BOUNDS.cpu) ok = this.bad(vm, "cpu", `${path}[${i}]`, TOO_LARGE.cpu);
      if (!isNumber(mem)) ok = this.bad(vm, "mem", `${path}[${i}]`, NUMBER);
      else if (mem > FACT_BOUNDS.mem) ok = this.bad(vm, "mem", `${path}[${i}]`, TOO_LARGE.mem);
      if (cpuAvg !== undefined && !isNumber(cpuAvg)) ok = this.bad(vm, "cpu_avg", `${path}[${i}]`, NUMBER);
      else if (cpuAvg !== undefined && cpuAvg > FACT_BOUNDS.cpu) ok = this.bad(vm, "cpu_avg", `${path}[${i}]`, TOO_LARGE.cpu);
      if (cpuChanges !== undefined && !isNumber(cpuChanges)) ok = this.bad(vm, "cpu_changes", `${path}[${i}]`, NUMBER);
      if (pinned !== undefined && typeof pinned !== "boolean") ok = this.bad(vm, "pinned", `${path}[${i}]`, "must be true or false");
      const rawLabels = vm.labels;
      const labels = rawLabels === undefined || isEmptyObject(rawLabels) ? EMPTY_LABELS : this.labels(rawLabels, `${path}[${i}].labels`);
      if (ok && this.adopt && pinned !== undefined && cpuAvg !== undefined && rawLabels !== undefined) {
        if (rawLabels !== labels) vm.labels = labels;
        // Agents do not send it (the engine derives it), so adopting must fill its default.
        if (cpuChanges === undefined) vm.cpu_changes = 0;
        out.push(vm as unknown as VmFact);
      } else if (ok) {
        out.push({
          name: name as string,
          cpu: cpu as number,
          mem: mem as number,
          labels,
          pinned: pinned === true,
          cpu_avg: cpuAvg === undefined ? (cpu as number) : (cpuAvg as number),
          cpu_changes: cpuChanges === undefined ? 0 : (cpuChanges as number),
        });
      }
    }
    return out;
  }

  /** Reports a bad or missing field; returns false so callers can write `ok = this.bad(…)`. */
  private bad(obj: Obj, key: string, path: string, message: string): false {
    this.fail(`${path}.${key}`, obj[key] === undefined ? `is missing: ${message}` : message);
    return false;
  }

  private name(obj: Obj, key: string, path: string): string | null {
    const x = obj[key];
    if (x === undefined) this.fail(`${path}.${key}`, `is missing: ${NAME}`);
    else if (typeof x !== "string" || x.length === 0) this.fail(`${path}.${key}`, NAME);
    else return x;
    return null;
  }

  /** A finite number ≥ 0 within `bound`'s range; null when absent (an error too when `required`) or invalid. */
  private number(obj: Obj, key: string, path: string, required: boolean, bound: keyof typeof TOO_LARGE): number | null {
    const x = obj[key];
    if (x === undefined) {
      if (required) this.fail(`${path}.${key}`, `is missing: ${NUMBER}`);
      return null;
    }
    if (!isNumber(x)) {
      this.fail(`${path}.${key}`, NUMBER);
      return null;
    }
    if (x > FACT_BOUNDS[bound]) {
      this.fail(`${path}.${key}`, TOO_LARGE[bound]);
      return null;
    }
    return x;
  }

  private labels(input: unknown, path: string): Readonly<Record<string, string>> {
    if (input === undefined) return EMPTY_LABELS;
    if (!isObject(input)) {
      this.fail(path, "must be an object of strings");
      return EMPTY_LABELS;
    }
    let out: Record<string, string> | null = null;
    for (const key in input) {
      const value = input[key];
      if (typeof value !== "string") this.fail(member(path, key), "must be a string");
      else {
        // No prototype: a label named "constructor" or "__proto__" is just a label.
        out ??= Object.create(null) as Record<string, string>;
        out[key] = value;
      }
    }
    return out ?? EMPTY_LABELS;
  }

  /**
   * Host names are unique; a VM name is unique across the whole snapshot (a
   * VM on two hosts names both). Positions become paths only for an error.
   */
  private registerHost(name: unknown, index: number): void {
    if (typeof name !== "string" || name.length === 0) {
      this.namesComplete = false;
      return;
    }
    const prev = this.hostAt.get(name);
    if (prev !== undefined) this.nameErrors.push({ path: `hosts[${index}].name`, message: `duplicate host name ${JSON.stringify(name)} (also hosts[${prev}])` });
    else this.hostAt.set(name, index);
  }

  private registerVm(name: string, host: number, slot: number): void {
    const seen = this.vmAt.add(name, host, slot);
    if (seen < 0) return;
    const seenHost = this.vmAt.hostOf(seen);
    const seenPath = `hosts[${seenHost}].vms[${this.vmAt.positionOf(seen)}]`;
    const path = `hosts[${host}].vms[${slot}]`;
    const quoted = JSON.stringify(name);
    const message =
      seenHost === host
        ? `duplicate VM name ${quoted} on host ${this.hostLabel(host)} (also ${seenPath})`
        : `VM ${quoted} is on two hosts: ${this.hostLabel(seenHost)} (${seenPath}) and ${this.hostLabel(host)} (${path})`;
    this.nameErrors.push({ path: `${path}.name`, message });
  }

  /** A host's name, or its position when it has none. */
  private hostLabel(index: number): string {
    const h = this.rawHosts[index] as Obj;
    return typeof h.name === "string" && h.name.length > 0 ? h.name : `hosts[${index}]`;
  }

  migrating(
    input: unknown,
    hostNames: ReadonlyMap<string, unknown>,
    vmWhere: { has(name: string): boolean },
    namesKnown: boolean,
    hostOfVm: (vm: string) => string | null,
  ): MigrationFact[] | null {
    if (input === undefined) return [];
    if (!Array.isArray(input)) {
      this.fail("migrating", "must be a list of { vm, from, to }");
      return null;
    }
    const before = this.errors.length;
    const out: MigrationFact[] = [];
    const seen = new Map<string, number>();
    input.forEach((m, i) => {
      const p = `migrating[${i}]`;
      if (!isObject(m)) return this.fail(p, "must be an object { vm, from, to }");
      this.unknownKeys(m, p, MIGRATION_KEYS);
      const vm = this.name(m, "vm", p);
      const from = this.name(m, "from", p);
      const to = this.name(m, "to", p);
      if (vm !== null) {
        if (namesKnown && !vmWhere.has(vm)) this.fail(`${p}.vm`, `unknown VM ${JSON.stringify(vm)}`);
        const prev = seen.get(vm);
        if (prev !== undefined) this.fail(`${p}.vm`, `${JSON.stringify(vm)} is already listed at migrating[${prev}]`);
        else seen.set(vm, i);
      }
      for (const [key, host] of [["from", from], ["to", to]] as const) {
        if (host !== null && namesKnown && !hostNames.has(host)) this.fail(`${p}.${key}`, `unknown host ${JSON.stringify(host)}`);
      }
      if (from !== null && to !== null && from === to) this.fail(`${p}.to`, `must differ from from (${JSON.stringify(from)})`);
      // In flight between two hosts, the VM is listed on one of them (the source until it lands), like a VM on two hosts is refused.
      const on = vm !== null && namesKnown ? hostOfVm(vm) : null;
      if (on !== null && from !== null && to !== null && from !== to && on !== from && on !== to) {
        this.fail(`${p}.vm`, `VM ${JSON.stringify(vm)} is on host ${JSON.stringify(on)}, neither from (${JSON.stringify(from)}) nor to (${JSON.stringify(to)})`);
      }
      if (vm !== null && from !== null && to !== null) out.push({ vm, from, to });
    });
    return this.errors.length > before ? null : out;
  }

  recent(input: unknown, vmWhere: { has(name: string): boolean }, namesKnown: boolean): RecentFact[] | null {
    if (input === undefined) return [];
    if (!Array.isArray(input)) {
      this.fail("recent", "must be a list of { vm, seconds_ago }");
      return null;
    }
    const before = this.errors.length;
    const out: RecentFact[] = [];
    const seen = new Map<string, number>();
    input.forEach((r, i) => {
      const p = `recent[${i}]`;
      if (!isObject(r)) return this.fail(p, "must be an object { vm, seconds_ago }");
      this.unknownKeys(r, p, RECENT_KEYS);
      const vm = this.name(r, "vm", p);
      const ago = this.number(r, "seconds_ago", p, true, "seconds_ago");
      if (vm !== null) {
        if (namesKnown && !vmWhere.has(vm)) this.fail(`${p}.vm`, `unknown VM ${JSON.stringify(vm)}`);
        const prev = seen.get(vm);
        if (prev !== undefined) this.fail(`${p}.vm`, `${JSON.stringify(vm)} is already listed at recent[${prev}]`);
        else seen.set(vm, i);
      }
      if (vm !== null && ago !== null) out.push({ vm, seconds_ago: ago });
    });
    return this.errors.length > before ? null : out;
  }
}
