/**
 * A sweep: every `iterations` value × every policy (and static placement) ×
 * `repeats` seeded runs, reduced to one row per (iterations, policy) with the
 * mean and the spread over repeats. Static and each policy run on the same
 * seeds, so their rows compare like with like.
 */
import type { CompiledPolicySet } from "../../grammar/compile-types.js";
import { mixSeed } from "../rng.js";
import type { PlanError } from "../types.js";
import { simulateOnce, type RunResult } from "./runner.js";
import { withIterations, type Scenario } from "./scenario.js";

/** A contestant: static placement (`set` null) or a loaded policy set. */
export interface Contestant {
  readonly name: string;
  readonly set: CompiledPolicySet | null;
}

export interface SweepOptions {
  readonly scenario: Scenario;
  readonly contestants: readonly Contestant[];
  readonly iterations: readonly number[];
  readonly repeats: number;
  readonly seed: number;
  /** Called after each simulation (for a progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Hears every error a contestant's plans list (a script that fails, say). */
  readonly onPlanError?: (contestant: string, error: PlanError) => void;
}

/** One line of the `--json` output. */
export interface SweepRow {
  readonly iterations: number;
  readonly policy: string;
  readonly runs: number;
  readonly runs_sd: number;
  readonly vm_pct: number;
  readonly dom0_pct: number;
  readonly idle_pct: number;
  readonly engine_pct: number;
  readonly migrations: number;
  readonly migrations_sd: number;
  /** Ping-pong migrations per run, on average (see `RunResult.pingpong`). */
  readonly pingpong: number;
  readonly served_pct: number;
  /** Plan errors per run, on average: bindings that failed and planned nothing. */
  readonly plan_errors: number;
  readonly repeats: number;
}

/** Runs the whole sweep; rows ordered by iterations, then contestant order. */
export function runSweep(options: SweepOptions): SweepRow[] {
  const rows: SweepRow[] = [];
  const total = options.iterations.length * options.contestants.length * options.repeats;
  let done = 0;
  for (const iterations of options.iterations) {
    const scenario = withIterations(options.scenario, iterations);
    for (const c of options.contestants) {
      const results: RunResult[] = [];
      for (let r = 0; r < options.repeats; r++) {
        const onPlanError = options.onPlanError === undefined ? undefined : (e: PlanError) => options.onPlanError!(c.name, e);
        results.push(simulateOnce(scenario, c.set, mixSeed(options.seed, r, iterations), r, onPlanError));
        options.onProgress?.(++done, total);
      }
      rows.push(reduce(iterations, c.name, results));
    }
  }
  return rows;
}

function reduce(iterations: number, policy: string, results: readonly RunResult[]): SweepRow {
  const mean = (k: keyof RunResult) => results.reduce((a, r) => a + r[k], 0) / results.length;
  const sd = (k: keyof RunResult) => {
    if (results.length < 2) return 0;
    const m = mean(k);
    return Math.sqrt(results.reduce((a, r) => a + (r[k] - m) ** 2, 0) / (results.length - 1));
  };
  return {
    iterations,
    policy,
    runs: r2(mean("runs")),
    runs_sd: r2(sd("runs")),
    vm_pct: r2(mean("vm_pct")),
    dom0_pct: r2(mean("dom0_pct")),
    idle_pct: r2(mean("idle_pct")),
    engine_pct: r3(mean("engine_pct")),
    migrations: r2(mean("migrations")),
    migrations_sd: r2(sd("migrations")),
    pingpong: r2(mean("pingpong")),
    served_pct: r2(mean("served_pct")),
    plan_errors: r2(mean("plan_errors")),
    repeats: results.length,
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
