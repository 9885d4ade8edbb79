/**
 * The checker's vocabulary of types (SPEC 2.5): shared constants, how a type
 * is named in a message ("a list of hosts"), when two types may meet in
 * `==`, `??` or a list, and the fields of hosts and VMs (SPEC 1). Kept apart
 * from the walk over expressions so messages and rules read the same
 * everywhere.
 */
import type { Type } from "./types.js";

export const NUMBER: Type = { kind: "number" };
export const STRING: Type = { kind: "string" };
export const BOOL: Type = { kind: "bool" };
export const HOST: Type = { kind: "host" };
export const VM: Type = { kind: "vm" };
export const GROUP: Type = { kind: "group" };
export const STATE: Type = { kind: "state" };
export const LABELS: Type = { kind: "labels" };
export const NONE: Type = { kind: "none" };
export const ERROR: Type = { kind: "error" };
/**
 * A script function's result where the call site expects nothing in
 * particular (`let want = headroom(dst, mid)`). It is recorded as `error`
 * in the side table — the compiler treats it as "no lookup by name" — and
 * accepted wherever a value is needed, since JavaScript results are only
 * known at run time (SPEC 2.8). A distinct object so the checker can tell
 * it from a real error if it ever needs to.
 */
export const DYNAMIC: Type = { kind: "error" };
export const HOST_LIST: Type = { kind: "list", element: HOST };
export const VM_LIST: Type = { kind: "list", element: VM };

export function listOf(element: Type): Type {
  if (element === HOST) return HOST_LIST;
  if (element === VM) return VM_LIST;
  return { kind: "list", element };
}

/** True for types that stand for "unknown, already reported or dynamic": they meet everything silently. */
export function isLoose(t: Type): boolean {
  return t.kind === "error";
}

/** The type as a message names it, with an article: "a number", "a list of hosts", "none". */
export function typeName(t: Type): string {
  switch (t.kind) {
    case "none":
      return "none";
    case "labels":
      return "labels";
    case "list":
      return t.element.kind === "none" ? "an empty list" : `a list of ${plural(t.element)}`;
    case "error":
      return "an unknown value";
    default:
      return `a ${t.kind}`;
  }
}

/** "hosts", "numbers", "lists of vms". */
export function plural(t: Type): string {
  switch (t.kind) {
    case "list":
      return `lists of ${plural(t.element)}`;
    case "labels":
      return "labels";
    case "none":
      return "none";
    case "error":
      return "values";
    default:
      return `${t.kind}s`;
  }
}

/** Whether values of `a` and `b` may be compared with `==` or meet in `??` (none meets everything). */
export function compatible(a: Type, b: Type): boolean {
  if (isLoose(a) || isLoose(b) || a.kind === "none" || b.kind === "none") return true;
  if (a.kind === "list" && b.kind === "list") return compatible(a.element, b.element);
  return a.kind === b.kind;
}

/** The type of a value that is `a` or `b` (for `??`, lists): the more specific one. Assumes `compatible`. */
export function unify(a: Type, b: Type): Type {
  if (a.kind === "none") return b;
  if (b.kind === "none") return a;
  if (isLoose(a)) return b.kind === "error" ? a : b;
  if (a.kind === "list" && b.kind === "list") return listOf(unify(a.element, b.element));
  return a;
}

/** Whether `t` is (or may be) a number: arithmetic and `by` keys accept these. */
export function isNumberish(t: Type): boolean {
  return t.kind === "number" || t.kind === "none" || isLoose(t);
}

export function isBoolish(t: Type): boolean {
  return t.kind === "bool" || t.kind === "none" || isLoose(t);
}

/** The fields of a host (SPEC 1), in the order the docs list them. */
export const HOST_FIELDS: ReadonlyMap<string, Type> = new Map<string, Type>([
  ["name", STRING],
  ["state", STATE],
  ["cpus", NUMBER],
  ["mem", NUMBER],
  ["labels", LABELS],
  ["vms", VM_LIST],
  ["load", NUMBER],
  ["load_avg", NUMBER],
  ["used", NUMBER],
  ["other_cpu", NUMBER],
  ["mem_used", NUMBER],
  ["mem_free", NUMBER],
  ["mem_avail", NUMBER],
  ["vm_count", NUMBER],
  ["busy", BOOL],
  ["group", GROUP],
]);

/** The fields of a VM (SPEC 1). */
export const VM_FIELDS: ReadonlyMap<string, Type> = new Map<string, Type>([
  ["name", STRING],
  ["cpu", NUMBER],
  ["cpu_avg", NUMBER],
  ["cpu_changes", NUMBER],
  ["mem", NUMBER],
  ["labels", LABELS],
  ["pinned", BOOL],
  ["migrating", BOOL],
  ["host", HOST],
  ["load", NUMBER],
]);
