/**
 * The fit behind `CALIBRATION.benchmarks`: each benchmark's constants from
 * the thesis's inputs only, in the model's own accounting —
 *  1. work per run, Dom0 at rest and the gap between runs from the static
 *     workload without the engine (Tables 5.1–5.4, nine busy VMs): the
 *     model run on that workload must give the row's runs, Dom0% and Idle%;
 *  2. the hand-over start-up (seconds from a VM's last run to its successor
 *     computing, with one Dom0 CPU busy meanwhile) from the dynamic tables'
 *     "No Policy Engine" row: static placement pooled over the table's
 *     lengths must give its Dom0%. The model charges that Dom0 in the
 *     successor's idle slot, so it is not also counted as idle.
 * Never from a row with the engine on. Percent targets are the thesis's
 * row scaled to 100 % (its rows sum to ~103 % with hyperthreading).
 * Run by test/engine/simulator/calibrate.test.ts, which checks the stored
 * constants are what this fit gives.
 */
import { simulateOnce, type RunResult } from "./runner.js";
import { thesisScenario, withIterations, STATIC_WORKLOAD_ITERATIONS, type Scenario } from "./scenario.js";
import { pooledStaticRow, scaledTo100, staticNoEngineRow, THESIS_TABLES, type ThesisBenchmark } from "./thesis-tables.js";
import type { BenchmarkConstants } from "./calibration.js";

/** Seeds and stratified repeats the fit averages over (fixed: the fit is deterministic). */
const REPEATS = 9;

function withConstants(b: ThesisBenchmark, c: BenchmarkConstants, busy: number): Scenario {
  const s = thesisScenario(b);
  return {
    ...s,
    hosts: s.hosts.map((h) => ({ ...h, dom0: c.dom0 })),
    workload: { ...s.workload, busy, work: c.work, runGap: c.runGap, startup: c.startup, startupDom0: c.startupDom0 },
  };
}

function meanOf(scenario: Scenario, lengths: readonly number[]): Pick<RunResult, "runs" | "dom0_pct" | "idle_pct"> {
  let runs = 0;
  let dom0 = 0;
  let idle = 0;
  let n = 0;
  for (const length of lengths) {
    for (let r = 0; r < REPEATS; r++) {
      const x = simulateOnce(withIterations(scenario, length), null, 1000 + r, r);
      runs += x.runs;
      dom0 += x.dom0_pct;
      idle += x.idle_pct;
      n++;
    }
  }
  return { runs: runs / n, dom0_pct: dom0 / n, idle_pct: idle / n };
}

/** Step 1: work, Dom0 at rest and the run gap from the no-engine static workload row. */
export function fitStatic(b: ThesisBenchmark, start: BenchmarkConstants): BenchmarkConstants {
  const target = scaledTo100(staticNoEngineRow(b));
  let c = start;
  for (let i = 0; i < 8; i++) {
    const m = meanOf(withConstants(b, c, 9), [STATIC_WORKLOAD_ITERATIONS]);
    const off = Math.max(Math.abs(m.runs / target.runs - 1), Math.abs(m.dom0_pct / target.dom0_pct - 1), Math.abs(m.idle_pct - target.idle_pct) / 10);
    if (off < 0.001) break;
    c = {
      ...c,
      work: (c.work * m.runs) / target.runs,
      dom0: (c.dom0 * target.dom0_pct) / m.dom0_pct,
      runGap: m.idle_pct > 0.01 ? (c.runGap * target.idle_pct) / m.idle_pct : c.runGap * 2 + 0.5,
    };
  }
  return c;
}

/** The lengths of a benchmark's dynamic table (the pooled static row pools over these). */
export function tableLengths(b: ThesisBenchmark): number[] {
  const table = THESIS_TABLES.find((t) => t.kind === "dynamic" && t.rows[0]!.benchmark === b)!;
  return table.rows.flatMap((r) => (r.iterations === null ? [] : [r.iterations]));
}

/**
 * Step 2: the hand-over start-up, in seconds, from the pooled static row's
 * Dom0% (secant method), with Dom0 busy at `startupDom0` (one CPU) meanwhile.
 * The row's Idle% cannot be fitted as well: without any start-up the
 * model's static placement already idles more than the thesis's (its
 * unbalanced placements leave a core idle; see docs/thesis-comparison.md).
 */
export function fitHandover(b: ThesisBenchmark, c: BenchmarkConstants): BenchmarkConstants {
  const target = scaledTo100(pooledStaticRow(b)).dom0_pct;
  const lengths = tableLengths(b);
  const f = (s: number) => meanOf(withConstants(b, { ...c, startup: s }, 8), lengths).dom0_pct - target;
  let s0 = c.startup;
  let f0 = f(s0);
  if (Math.abs(f0) <= 0.005) return c;
  let s1 = s0 + 2;
  let f1 = f(s1);
  for (let i = 0; i < 4 && Math.abs(f1) > 0.005 && f1 !== f0; i++) {
    const s2 = Math.max(0, s1 - (f1 * (s1 - s0)) / (f1 - f0));
    [s0, f0, s1] = [s1, f1, s2];
    f1 = f(s1);
  }
  return { ...c, startup: s1 };
}

/** Both steps, rounded as stored in `CALIBRATION.benchmarks`. */
export function calibrateBenchmark(b: ThesisBenchmark, start: BenchmarkConstants): BenchmarkConstants {
  const first = fitStatic(b, start);
  const done = fitHandover(b, first);
  return {
    work: round(done.work, 10),
    dom0: round(done.dom0, 10),
    runGap: round(done.runGap, 100),
    startup: round(done.startup, 10),
    startupDom0: done.startupDom0,
  };
}

const round = (x: number, k: number) => Math.round(x * k) / k;
