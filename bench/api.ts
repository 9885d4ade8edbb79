/**
 * A benchmark module: the modules listed in `bench/run.ts` export one of these as
 * default; `bench/run.ts` finds and runs them all. Each result is a flat
 * record of figures that lands, under its key, in the JSON line of
 * `npm run bench -- --json`.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface Benchmark {
  /** Key in the JSON line, e.g. `check_2k`. */
  readonly name: string;
  /** One line on what is measured and the goal. */
  readonly description: string;
  run(): Promise<BenchResult>;
}

export type BenchResult = Record<string, number | string | boolean | Record<string, number | string | boolean>>;

/** Milliseconds one synchronous run of `fn` takes. */
export function elapsedMs(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A full collection on demand, without starting node with `--expose-gc`. */
export function fullGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Runs `fn` `runs` times after `warmup` runs and returns the median in milliseconds. */
export async function medianMs(fn: () => unknown, runs: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
