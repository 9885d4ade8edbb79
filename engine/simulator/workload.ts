/**
 * The thesis's benchmark workload (ch. 4.5, 5.2): `busy` VMs run a CPU-bound
 * benchmark at any time; after `iterations` consecutive runs a VM stops and
 * another VM, chosen at random among the idle ones, takes over. Trace VMs
 * (scenario CSV) never take part; their demand comes from the trace.
 */
import { randomInt, type Rng } from "../rng.js";
import type { TraceSeries } from "./scenario.js";

/** The benchmark state of one VM. */
export interface BenchState {
  busy: boolean;
  /** Runs left before this VM hands over. */
  runsLeft: number;
  /** CPU-seconds done of the current run. */
  progress: number;
  /** Simulated time the benchmark starts computing: until then the harness is starting it (idle guest). */
  startAt: number;
  /** Dom0 CPU on the VM's host until `startAt` (a hand-over's start-up; 0 between two runs of one VM). */
  startDom0: number;
}

/**
 * Picks the `busy` VMs that start, uniformly among the benchmark VMs. With a
 * `stratum` (the repeat number of a sweep), benchmark VM `stratum mod n`
 * starts idle, so n repeats cover every starting placement once instead of
 * leaving it to chance (stratified sampling: the mean over repeats is far
 * less noisy; the thesis, too, compares averages over many runs).
 */
export function initialBusy(benchVms: readonly number[], busy: number, rng: Rng, stratum?: number): Set<number> {
  const pool = [...benchVms];
  const chosen = new Set<number>();
  if (stratum !== undefined && busy < benchVms.length && benchVms.length > 0) pool.splice(stratum % benchVms.length, 1);
  while (chosen.size < Math.min(busy, benchVms.length)) {
    const i = randomInt(rng, pool.length);
    chosen.add(pool[i]!);
    pool.splice(i, 1);
  }
  return chosen;
}

/**
 * Credits `cpuSeconds` of work to a busy VM; returns how many runs it
 * completed. When its iterations are used up it stops (`handover` is then
 * true) and the caller starts another VM.
 */
export function creditWork(state: BenchState, cpuSeconds: number, workPerRun: number): { runs: number; handover: boolean } {
  if (!state.busy) return { runs: 0, handover: false };
  state.progress += cpuSeconds;
  let runs = 0;
  while (state.progress >= workPerRun - 1e-9 && state.runsLeft > 0) {
    state.progress -= workPerRun;
    state.runsLeft--;
    runs++;
  }
  if (state.runsLeft > 0) return { runs, handover: false };
  // The harness stops the VM: the rest of the step is not carried into a new run.
  state.busy = false;
  state.progress = 0;
  return { runs, handover: true };
}

/**
 * The VM that takes over from `stopped`: uniform among the idle benchmark VMs
 * other than `stopped` ("another virtual machine was randomly selected"),
 * or `stopped` itself when no other is idle.
 */
export function pickSuccessor(stopped: number, benchVms: readonly number[], states: readonly BenchState[], rng: Rng): number {
  const idle = benchVms.filter((v) => v !== stopped && !states[v]!.busy);
  return idle.length === 0 ? stopped : idle[randomInt(rng, idle.length)]!;
}

/** A trace's demand at time `t` (seconds), repeating after its period. */
export function traceAt(trace: TraceSeries, t: number): number {
  const x = trace.period > 0 ? t % trace.period : t;
  const times = trace.times;
  let lo = 0;
  let hi = times.length - 1;
  if (x < times[0]!) return trace.values[0]!;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return trace.values[lo]!;
}
