/**
 * The aggregates `sum avg min max median stddev (VALUE for BINDING)` as a
 * declaration table, like stdlib/functions.ts: what each computes, what it
 * gives over no elements, and a reference implementation over the numbers
 * the binding produced (none values already left out, SPEC 2.5). The
 * compiler may reduce incrementally instead; docs/stdlib.md and the tests
 * read this table.
 */
/** The aggregate functions of the language (SPEC 2.4); the AST names them by this type. */
export type AggregateFn = "sum" | "avg" | "min" | "max" | "median" | "stddev";

export interface AggregateInfo {
  readonly name: AggregateFn;
  readonly doc: string;
  readonly example: string;
  /** The value over no elements: 0 for `sum`, none for the rest. */
  readonly empty: number | null;
  readonly reduce: (values: readonly number[]) => number | null;
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export const AGGREGATES: readonly AggregateInfo[] = [
  {
    name: "sum",
    doc: "The total; 0 over no elements (an empty cluster carries no load).",
    example: "sum(vm.mem for vm in host.vms)",
    empty: 0,
    reduce: (values) => values.reduce((a, b) => a + b, 0),
  },
  {
    name: "avg",
    doc: "The arithmetic mean; none over no elements.",
    example: "avg(host.load for host where host.state == up)",
    empty: null,
    reduce: mean,
  },
  {
    name: "min",
    doc: "The smallest value; none over no elements.",
    example: "min(host.load for light host)",
    empty: null,
    reduce: (values) => (values.length === 0 ? null : Math.min(...values)),
  },
  {
    name: "max",
    doc: "The largest value; none over no elements.",
    example: "max(vm.cpu for vm in host.vms)",
    empty: null,
    reduce: (values) => (values.length === 0 ? null : Math.max(...values)),
  },
  {
    name: "median",
    doc: "The middle value (the mean of the two middle ones for an even count); none over no elements.",
    example: "median(host.load for host)",
    empty: null,
    reduce: (values) => {
      if (values.length === 0) return null;
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    },
  },
  {
    name: "stddev",
    doc: "The population standard deviation; none over no elements, 0 over one.",
    example: "stddev(host.load for host where host.state == up)",
    empty: null,
    reduce: (values) => {
      const m = mean(values);
      if (m === null) return null;
      let s = 0;
      for (const v of values) s += (v - m) * (v - m);
      return Math.sqrt(s / values.length);
    },
  },
];

/** The aggregate called `name`. */
export function aggregateInfo(name: AggregateFn): AggregateInfo {
  return AGGREGATES.find((a) => a.name === name)!;
}
