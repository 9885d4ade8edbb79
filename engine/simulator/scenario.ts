/**
 * What a simulation runs on: the cluster, the workload and the cost model.
 * A scenario file (YAML or JSON, see `scenario-load.ts`) fills one of these;
 * `thesisScenario()` is the default, the testbed of Wilcox (2009) ch. 4 with
 * the costs calibrated in `calibration.ts`.
 */
import { BENCHMARK_CONSTANTS, CALIBRATION } from "./calibration.js";
import type { ThesisBenchmark } from "./thesis-tables.js";

export interface SimHost {
  readonly name: string;
  /** Logical CPUs (hyperthreads), as the facts report them: capacity `cpus × 100` in xentop percent. */
  readonly cpus: number;
  /** Physical cores; fewer than `cpus` means hyperthreading. */
  readonly cores: number;
  /** Extra work a core does when both of its threads are busy (0.15 = 15% more than one thread alone). */
  readonly htGain: number;
  /** MiB for guests. */
  readonly mem: number;
  /** Dom0/hypervisor CPU demand at rest, in percent of one logical CPU. */
  readonly dom0: number;
}

export interface SimVm {
  readonly name: string;
  /** Host at the start (the static placement). */
  readonly host: string;
  readonly mem: number;
  readonly vcpus: number;
  /** CPU demand over time from a trace (percent of one CPU per sample); absent: the VM takes part in the benchmark. */
  readonly trace?: TraceSeries;
  readonly pinned?: boolean;
}

/** A VM's CPU demand, piecewise constant: `values[i]` from `times[i]` until `times[i+1]`; repeats after `period`. */
export interface TraceSeries {
  readonly times: readonly number[];
  readonly values: readonly number[];
  readonly period: number;
}

export interface BenchmarkWorkload {
  /** VMs running the benchmark at any time (the others idle). */
  readonly busy: number;
  /** CPU-seconds (at 100% of one CPU) of work per benchmark run. */
  readonly work: number;
  /** Consecutive runs before a busy VM stops and an idle one takes over. */
  readonly iterations: number;
  /** CPU an idle guest uses anyway (its OS), percent of one CPU. */
  readonly idleCpu: number;
  /** Seconds a VM idles between two of its own runs (the harness records one run and starts the next). */
  readonly runGap: number;
  /** Seconds between a VM stopping and its successor computing (the harness starts the benchmark). */
  readonly startup: number;
  /** Dom0 CPU on the successor's host during that start-up (loading the benchmark through the block backend). */
  readonly startupDom0: number;
}

export interface MigrationCost {
  /** Effective network bandwidth for pre-copy, MiB/s (shared by concurrent migrations of a host). */
  readonly bandwidth: number;
  /** Bytes sent per byte of guest memory: pre-copy resends pages dirtied during earlier rounds. */
  readonly dirtyFactor: number;
  /** Seconds the VM is paused at the end (stop-and-copy). */
  readonly downtime: number;
  /** Dom0 CPU on the source while the migration runs, percent of one CPU. */
  readonly dom0Source: number;
  /** Dom0 CPU on the destination while the migration runs. */
  readonly dom0Dest: number;
  /** Fraction of its CPU a guest loses while being pre-copied (shadow paging, dirty logging). */
  readonly slowdown: number;
}

export interface EngineCost {
  /** Seconds between rounds; facts are CPU averaged over this interval, like xentop. */
  readonly interval: number;
  /** CPU-seconds the engine uses per round. */
  readonly roundCpu: number;
  /** Host whose Dom0 and CPU carry the engine VM. */
  readonly host: string;
  /** Extra Dom0 CPU on that host for hosting the engine's VM, percent of one CPU. */
  readonly dom0: number;
  readonly cooldown: number;
  readonly maxPerHost: number;
  readonly maxPerRound: number;
  /** Time constant of `cpu_avg` (seconds; 0 none), as the engine's `smoothing`. */
  readonly smoothing: number;
}

export interface Scenario {
  /** Simulated seconds per run. */
  readonly duration: number;
  /** Seconds per model step. */
  readonly step: number;
  readonly hosts: readonly SimHost[];
  readonly vms: readonly SimVm[];
  readonly workload: BenchmarkWorkload;
  readonly migration: MigrationCost;
  readonly engine: EngineCost;
}

/** `iterations` for a static workload (Tables 5.1–5.4, 6.1): no VM ever hands over within a test. */
export const STATIC_WORKLOAD_ITERATIONS = 1_000_000;

/**
 * The thesis testbed (ch. 4): two quad-core hosts with hyperthreading, nine
 * VMs, `busy` of them running `benchmark` (default gap, eight busy: the
 * dynamic tables; nine busy with `STATIC_WORKLOAD_ITERATIONS` is the static
 * workload of the overhead tables).
 */
export function thesisScenario(benchmark: ThesisBenchmark = "gap", busy = 8): Scenario {
  const c = CALIBRATION;
  const b = BENCHMARK_CONSTANTS[benchmark];
  const hosts: SimHost[] = ["xen1", "xen2"].map((name) => ({
    name,
    cpus: c.threads,
    cores: c.cores,
    htGain: c.htGain,
    mem: c.hostMem,
    dom0: b.dom0,
  }));
  // The favourable static placement of ch. 4.3: round-robin, five on xen1, four on xen2.
  const vms: SimVm[] = Array.from({ length: 9 }, (_, i) => ({
    name: `vm${i + 1}`,
    host: hosts[i % 2]!.name,
    mem: c.vmMem,
    vcpus: 1,
  }));
  return {
    duration: c.duration,
    step: 1,
    hosts,
    vms,
    workload: { busy, work: b.work, iterations: 1, idleCpu: c.idleCpu, runGap: b.runGap, startup: b.startup, startupDom0: b.startupDom0 },
    migration: {
      bandwidth: c.bandwidth,
      dirtyFactor: c.dirtyFactor,
      downtime: c.downtime,
      dom0Source: c.migrationDom0Source,
      dom0Dest: c.migrationDom0Dest,
      slowdown: c.migrationSlowdown,
    },
    engine: {
      interval: c.interval,
      roundCpu: c.engineRoundCpu,
      host: "xen1",
      dom0: c.engineDom0,
      cooldown: c.cooldown,
      maxPerHost: 2,
      maxPerRound: 16,
      smoothing: c.smoothing,
    },
  };
}

/** The same scenario with another `iterations`. */
export function withIterations(s: Scenario, iterations: number): Scenario {
  return { ...s, workload: { ...s.workload, iterations } };
}
