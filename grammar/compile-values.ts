/**
 * Operations on run-time values shared by the compiled closures and the
 * planner: telling hosts from VMs, equality, the sort order of `by` keys,
 * and the JSON rendering that plans use (hosts and VMs by name, none as null).
 */
import type { HostView, VmView } from "./view.js";
import type { JsonValue } from "./view.js";
import type { Labels, Value } from "./compile-types.js";

/**
 * Hosts have a numeric `cpus`, VMs a numeric `cpu`; a label map holds only
 * strings, so it has neither. (`index` would tell too, but a VM's index
 * costs a sort of every VM name the first time it is read.)
 */
/**
 * A number result, or none past the largest number: Infinity (from 1e308 * 10
 * or a sum of huge values) is no value any plan can act on, as for division by zero.
 */
export function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

export function isHost(value: Value): value is HostView {
  return typeof value === "object" && value !== null && typeof (value as { cpus?: unknown }).cpus === "number";
}

export function isVm(value: Value): value is VmView {
  return typeof value === "object" && value !== null && typeof (value as { cpu?: unknown }).cpu === "number";
}

export function isView(value: Value): value is HostView | VmView {
  return isHost(value) || isVm(value);
}

/** `==`: by value for scalars and lists, by name for hosts and VMs. */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a !== "object" || typeof b !== "object") {
    // A number and NaN, or different scalars.
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!valueEquals(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (isView(a) && isView(b)) return a.name === b.name && isHost(a) === isHost(b);
  return false;
}

/**
 * Orders two `by` keys ascending: numbers numerically, strings by code
 * point, false before true; none sorts after every value (in both
 * directions, see `compareForOrder`), so a missing key never wins a pick.
 */
export function compareKeys(a: Value, b: Value): number {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (isView(a) && isView(b)) return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return 0;
}

/**
 * The order of a `for each` or `pick`: by key in the given direction, none
 * keys last, ties by name ascending (SPEC 2.3) so the result is a pure
 * function of the facts.
 */
export function compareForOrder(keyA: Value, nameA: string, keyB: Value, nameB: string, desc: boolean): number {
  if (keyA === null || keyB === null) {
    if (keyA !== keyB) return keyA === null ? 1 : -1;
  } else {
    const c = compareKeys(keyA, keyB);
    if (c !== 0) return desc ? -c : c;
  }
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/** The name an element of a binding sorts by on ties. */
export function elementName(value: Value): string {
  if (isView(value)) return value.name;
  if (typeof value === "string") return value;
  return "";
}

/** A value as the plan shows it: hosts and VMs by name, none and non-finite numbers as null. */
export function toJson(value: Value): JsonValue {
  if (value === null) return null;
  if (typeof value === "number") return finite(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => toJson(v as Value));
  if (isView(value)) return value.name;
  // A label map: shown as `key=value` pairs, sorted, so it stays a JsonValue.
  const labels = value as Labels;
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}

/** A readable rendering for alert messages and error texts. */
export function describeValue(value: Value): string {
  const json = toJson(value);
  return typeof json === "string" ? json : JSON.stringify(json);
}

/** Own label lookup: `labels.constructor` must be none, not Object's constructor. */
export function labelOf(labels: Labels, key: string): string | null {
  return Object.prototype.hasOwnProperty.call(labels, key) ? (labels[key] as string) : null;
}

/** The JSON snapshot of a host or VM that script functions receive (SPEC 2.8). */
export function toScriptArg(value: Value, groupOf: (host: HostView) => string | null): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => toScriptArg(v as Value, groupOf));
  if (isHost(value)) {
    return {
      name: value.name,
      state: value.state,
      cpus: value.cpus,
      mem: value.mem,
      labels: { ...value.labels },
      load: value.load,
      load_avg: value.load_avg,
      used: value.used,
      other_cpu: value.other_cpu,
      mem_used: value.mem_used,
      mem_free: value.mem_free,
      mem_avail: value.mem_avail,
      vm_count: value.vm_count,
      busy: value.busy,
      group: groupOf(value),
      vms: value.vms.map((v) => v.name),
    };
  }
  if (isVm(value)) {
    return {
      name: value.name,
      cpu: value.cpu,
      cpu_avg: value.cpu_avg,
      cpu_changes: value.cpu_changes,
      mem: value.mem,
      labels: { ...value.labels },
      pinned: value.pinned,
      migrating: value.migrating,
      load: value.load,
      host: value.host.name,
    };
  }
  return { ...(value as Labels) };
}
