/**
 * The standard functions of the policy language as one declaration table:
 * name, parameter and result types, implementation, a one-line doc and an
 * example. The checker reads the types, the compiler calls `impl`, and
 * docs/stdlib.md is written from the same entries, so the three cannot
 * drift apart. Every implementation propagates none (SPEC 2.5): any `null`
 * argument gives `null`.
 */

/** The value types a stdlib parameter or result may have (all numeric today). */
export type StdlibType = "number";

export interface StdlibFunction {
  readonly name: string;
  /** Parameter types; with `variadic` the last one repeats. */
  readonly params: readonly StdlibType[];
  /** When true, the call takes `params.length` or more arguments. */
  readonly variadic: boolean;
  readonly result: StdlibType;
  /** Arguments as evaluated (numbers or null); returns null for none. */
  readonly impl: (args: readonly unknown[]) => number | null;
  readonly doc: string;
  /** A call as a policy would write it, and its value. */
  readonly example: string;
  readonly exampleResult: string;
}

/** The numbers of `args`, or null when any is none (or not a finite number). */
function numbers(args: readonly unknown[]): number[] | null {
  const out: number[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return null;
    out[i] = v;
  }
  return out;
}

/** A one-number function, none-propagating; a non-finite result (sqrt of a negative) is none. */
function unary(f: (x: number) => number): (args: readonly unknown[]) => number | null {
  return (args) => {
    const n = numbers(args);
    if (n === null || n.length !== 1) return null;
    const r = f(n[0]!);
    return Number.isFinite(r) ? r : null;
  };
}

/** Rounds half away from zero (2.5 → 3, -2.5 → -3), as operators expect, unlike Math.round. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export const STDLIB_FUNCTIONS: readonly StdlibFunction[] = [
  {
    name: "abs",
    params: ["number"],
    variadic: false,
    result: "number",
    impl: unary(Math.abs),
    doc: "The absolute value.",
    example: "abs(host.load - mean)",
    exampleResult: "12 when the load is 52 and the mean 64",
  },
  {
    name: "min",
    params: ["number", "number"],
    variadic: true,
    result: "number",
    impl: (args) => {
      const n = numbers(args);
      return n === null || n.length === 0 ? null : Math.min(...n);
    },
    doc: "The smallest of two or more numbers (`min(x for BINDING)` is the aggregate).",
    example: "min(host.mem_free, 4096)",
    exampleResult: "4096 when mem_free is 6000",
  },
  {
    name: "max",
    params: ["number", "number"],
    variadic: true,
    result: "number",
    impl: (args) => {
      const n = numbers(args);
      return n === null || n.length === 0 ? null : Math.max(...n);
    },
    doc: "The largest of two or more numbers (`max(x for BINDING)` is the aggregate).",
    example: "max(mean - band, 0)",
    exampleResult: "0 when mean is 5 and band 10",
  },
  {
    name: "round",
    params: ["number"],
    variadic: false,
    result: "number",
    impl: unary(roundHalfAway),
    doc: "The nearest integer; halves round away from zero.",
    example: "round(2.5)",
    exampleResult: "3",
  },
  {
    name: "floor",
    params: ["number"],
    variadic: false,
    result: "number",
    impl: unary(Math.floor),
    doc: "The largest integer not above the number.",
    example: "floor(want / 100)",
    exampleResult: "2 when want is 250",
  },
  {
    name: "ceil",
    params: ["number"],
    variadic: false,
    result: "number",
    impl: unary(Math.ceil),
    doc: "The smallest integer not below the number.",
    example: "ceil(host.vm_count / 2)",
    exampleResult: "3 when vm_count is 5",
  },
  {
    name: "clamp",
    params: ["number", "number", "number"],
    variadic: false,
    result: "number",
    impl: (args) => {
      const n = numbers(args);
      if (n === null || n.length !== 3) return null;
      const [x, lo, hi] = n as [number, number, number];
      // A reversed range (lo > hi) has no valid answer: none, not a silent pick.
      if (lo > hi) return null;
      return Math.min(Math.max(x, lo), hi);
    },
    doc: "The number limited to the range [low, high]; none when low > high.",
    example: "clamp(want, 0, dst.mem_free)",
    exampleResult: "0 when want is -5",
  },
  {
    name: "sqrt",
    params: ["number"],
    variadic: false,
    result: "number",
    impl: unary(Math.sqrt),
    doc: "The square root; none for a negative number.",
    example: "sqrt(16)",
    exampleResult: "4",
  },
];

const BY_NAME: ReadonlyMap<string, StdlibFunction> = new Map(STDLIB_FUNCTIONS.map((f) => [f.name, f]));

/** The stdlib function called `name`, if any. */
export function stdlibFunction(name: string): StdlibFunction | undefined {
  return BY_NAME.get(name);
}

/** `clamp(number, number, number) → number`, `min(number, number, …) → number`: for docs and messages. */
export function signatureOf(fn: StdlibFunction): string {
  return `${fn.name}(${fn.params.join(", ")}${fn.variadic ? ", …" : ""}) → ${fn.result}`;
}

/** How many arguments `fn` takes, as a message says it: "1 argument", "2 or more arguments". */
export function arityText(fn: StdlibFunction): string {
  const n = fn.params.length;
  return `${n}${fn.variadic ? " or more" : ""} argument${n === 1 && !fn.variadic ? "" : "s"}`;
}
