/**
 * What a test case may expect of its plan (SPEC 8), one entry per `expect`
 * key: how its YAML value is checked, and how it is compared with the
 * outcome of the case. To add a kind (say, re-planning until settled), add
 * one entry to `EXPECTATIONS`: the loader, the runner and the report all
 * read this table. A comparison returns readable lines of difference; none
 * means the expectation holds.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import type { Facts, Plan, PlanSettings } from "../types.js";
import type { YamlPath } from "./yaml-source.js";
import { cycles, settlesWithin } from "./stability.js";

/** What a case produced, for the comparisons: the plan as JSON sees it, and what made it (to re-plan). */
export interface CaseOutcome {
  readonly plan: PlanJson;
  readonly set: CompiledPolicySet;
  readonly facts: Facts;
  readonly settings: PlanSettings;
}

export type PlanJson = { [K in keyof Plan]: Plan[K] };
type Obj = Record<string, unknown>;

/** One `expect` key. `parse` reports problems through `fail` (a path inside the value) and returns undefined for a bad value. */
export interface ExpectationKind<T = unknown> {
  parse(value: unknown, fail: (sub: YamlPath, message: string) => void): T | undefined;
  compare(expected: T, outcome: CaseOutcome): string[] | Promise<string[]>;
}

export interface Expectation {
  readonly key: string;
  readonly kind: ExpectationKind;
  readonly value: unknown;
}

const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

const ACTION_FIELDS = ["kind", "vm", "from", "to", "rule", "message", "explain"];
const SKIP_FIELDS = ["kind", "vm", "host", "from", "to", "rule", "reason", "constraint", "explain"];
const ERROR_FIELDS = ["rule", "message"];

/** A list of mappings whose keys are among `fields`. */
function itemList(fields: readonly string[], what: string) {
  return (value: unknown, fail: (sub: YamlPath, message: string) => void): Obj[] | undefined => {
    if (!Array.isArray(value)) {
      fail([], `must be a list of ${what} (mappings of ${fields.join(", ")})`);
      return undefined;
    }
    let ok = true;
    value.forEach((item, i) => {
      if (!isObj(item)) {
        fail([i], `must be a mapping of ${fields.join(", ")}`);
        ok = false;
        return;
      }
      for (const key of Object.keys(item)) {
        if (!fields.includes(key)) {
          fail([i, key], `unknown field \`${key}\`; expected ${fields.join(", ")}`);
          ok = false;
        }
      }
    });
    return ok ? (value as Obj[]) : undefined;
  };
}

/** True when every field written in `expected` equals the actual one (`reason`: as a substring). */
function matches(expected: Obj, actual: object, substringReason = false): boolean {
  const a = actual as Obj;
  for (const [key, want] of Object.entries(expected)) {
    const got = a[key];
    if (substringReason && key === "reason" && typeof want === "string") {
      if (typeof got !== "string" || !got.includes(want)) return false;
    } else if (!sameValue(want, got)) return false;
  }
  return true;
}

/** Deep equality of JSON values; numbers to 1e-9 relative. */
export function sameValue(want: unknown, got: unknown): boolean {
  if (typeof want === "number" && typeof got === "number") {
    if (want === got) return true;
    return Math.abs(want - got) <= 1e-9 * Math.max(Math.abs(want), Math.abs(got));
  }
  if (Array.isArray(want)) return Array.isArray(got) && want.length === got.length && want.every((w, i) => sameValue(w, got[i]));
  if (isObj(want)) {
    if (!isObj(got)) return false;
    const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const k of keys) if (!sameValue(want[k], got[k])) return false;
    return true;
  }
  return want === (got === undefined ? undefined : got);
}

/** A mapping in YAML flow style, one line: `{ kind: migrate, vm: vm1, to: xen2 }`. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") return /^[A-Za-z0-9_.\-/]+$/.test(value) && !/^(true|false|null|none|\d.*)$/.test(value) ? value : JSON.stringify(value);
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  return `{ ${Object.entries(value as Obj).map(([k, v]) => `${k}: ${show(v)}`).join(", ")} }`;
}

/** Only the fields `expected` writes, so a diff line compares like with like. */
function pick(actual: object, fields: Obj): Obj {
  const out: Obj = {};
  for (const key of Object.keys(fields)) if (key in (actual as Obj)) out[key] = (actual as Obj)[key];
  return out;
}

/** An exact list: same length, item by item (fields written compared); the diff in `-` expected / `+` actual lines. */
function compareExact(name: string, expected: readonly Obj[], actual: readonly object[]): string[] {
  const n = Math.max(expected.length, actual.length);
  let same = expected.length === actual.length;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e !== undefined && a !== undefined && matches(e, a)) {
      lines.push(`    ${show(pick(a, e))}`);
      continue;
    }
    same = false;
    if (e !== undefined) lines.push(`  - ${show(e)}`);
    if (a !== undefined) lines.push(`  + ${show(e === undefined ? a : { ...pick(a, e), ...a })}`);
  }
  if (same) return [];
  const head = expected.length === actual.length ? `${name} differ` : `${name}: expected ${count(expected.length, "item")}, got ${actual.length}`;
  return [`${head} (- expected, + actual):`, ...lines];
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function listing(label: string, items: readonly object[]): string[] {
  return items.length === 0 ? [`  ${label}: none`] : [`  ${label}:`, ...items.map((x) => `    ${show(x)}`)];
}

/** `{ POLICY: { KEY: VALUE } }`, as `groups` and `values` are written. */
function nested(what: string) {
  return (value: unknown, fail: (sub: YamlPath, message: string) => void): Record<string, Obj> | undefined => {
    if (!isObj(value) || !Object.values(value).every(isObj)) {
      fail([], `must be a mapping of policy names to mappings of ${what}`);
      return undefined;
    }
    return value as Record<string, Obj>;
  };
}

function compareNested(name: string, expected: Record<string, Obj>, actual: Record<string, Record<string, unknown>>, none: string): string[] {
  const out: string[] = [];
  for (const [policy, entries] of Object.entries(expected)) {
    const got = actual[policy];
    if (got === undefined) {
      out.push(`${name}.${policy}: no policy of that name in the set (policies: ${Object.keys(actual).join(", ") || "none"})`);
      continue;
    }
    for (const [key, want] of Object.entries(entries)) {
      const have = Object.prototype.hasOwnProperty.call(got, key) ? got[key] : undefined;
      if (!sameValue(want, have === undefined ? null : have)) {
        out.push(`${name}.${policy}.${key}: expected ${show(want)}, got ${have === undefined ? none : show(have)}`);
      }
    }
  }
  return out;
}

const actions: ExpectationKind<Obj[]> = {
  parse: itemList(ACTION_FIELDS, "actions"),
  compare: (expected, { plan }) => compareExact("actions", expected, plan.actions),
};

const actionsInclude: ExpectationKind<Obj[]> = {
  parse: itemList(ACTION_FIELDS, "actions"),
  compare(expected, { plan }) {
    const missing = expected.filter((e) => !plan.actions.some((a) => matches(e, a)));
    if (missing.length === 0) return [];
    return [`actions_include: no action matches:`, ...missing.map((m) => `  - ${show(m)}`), ...listing("actions planned", plan.actions)];
  },
};

const actionsExclude: ExpectationKind<Obj[]> = {
  parse: itemList(ACTION_FIELDS, "actions"),
  compare(expected, { plan }) {
    const out: string[] = [];
    for (const e of expected) {
      for (const a of plan.actions) if (matches(e, a)) out.push(`  ${show(e)} matches + ${show(a)}`);
    }
    return out.length === 0 ? [] : ["actions_exclude: planned all the same:", ...out];
  },
};

const groups: ExpectationKind<Record<string, Obj>> = {
  parse: nested("host names to group names (none: in no group)"),
  compare: (expected, { plan }) => compareNested("groups", expected, plan.groups, "no group"),
};

const values: ExpectationKind<Record<string, Obj>> = {
  parse: nested("param and let names to values"),
  compare: (expected, { plan }) => compareNested("values", expected, plan.values, "no such param or let"),
};

const skipped: ExpectationKind<Obj[]> = {
  parse: itemList(SKIP_FIELDS, "skips"),
  compare(expected, { plan }) {
    const missing = expected.filter((e) => !plan.skipped.some((s) => matches(e, s, true)));
    if (missing.length === 0) return [];
    return ["skipped: no skip matches (a reason matches as a substring):", ...missing.map((m) => `  - ${show(m)}`), ...listing("skipped", plan.skipped)];
  },
};

const errors: ExpectationKind<Obj[]> = {
  parse: itemList(ERROR_FIELDS, "errors"),
  compare: (expected, { plan }) => compareExact("errors", expected, plan.errors),
};

/** Every `expect` key, in the order a report lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry has its own value type; the loader pairs them.
export const EXPECTATIONS: Readonly<Record<string, ExpectationKind<any>>> = {
  actions,
  actions_include: actionsInclude,
  actions_exclude: actionsExclude,
  groups,
  values,
  skipped,
  errors,
  settles_within: settlesWithin,
  cycles,
};
