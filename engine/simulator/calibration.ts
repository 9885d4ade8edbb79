/**
 * The cost model's constants, each with where it comes from: a number of
 * Wilcox (2009), a fit to the thesis's inputs (its setup, its static rows
 * without the engine, its engine-overhead rows — never a dynamic row with
 * the engine on), first principles, or "assumed". Kept in one table so a
 * change of calibration is one reviewed diff, and docs/thesis-comparison.md
 * prints this table from here.
 */
import type { ThesisBenchmark } from "./thesis-tables.js";

export const CALIBRATION = {
  cores: 4,
  threads: 8,
  htGain: 0,
  hostMem: 8192,
  vmMem: 512,
  idleCpu: 1,
  bandwidth: 80,
  dirtyFactor: 1.2,
  downtime: 0.2,
  migrationDom0Source: 50,
  migrationDom0Dest: 50,
  migrationSlowdown: 0.1,
  interval: 10,
  cooldown: 60,
  smoothing: 300,
  band: 10,
  duration: 3600,
  engineRoundCpu: 0.055,
  engineDom0: 4,
} as const;

/** Where each constant of `CALIBRATION` comes from ("assumed" when the thesis is silent). */
export const CALIBRATION_SOURCES: Readonly<Record<keyof typeof CALIBRATION, string>> = {
  cores: "ch. 4.1: \"two quadcore Dell 6650's\"",
  threads: "ch. 4.1: \"hyper-threading is enabled\" (two threads per core)",
  htGain: "assumed: Xen 3's credit scheduler is not hyperthread-aware; a thread sharing a busy core adds no work (the thesis gives no figure)",
  hostMem: "assumed (not in the thesis; ample for nine guests)",
  vmMem: "assumed (the thesis does not give its guests' memory)",
  idleCpu: "assumed: an idle Linux guest uses about 1% of a CPU",
  bandwidth: "ch. 4.6: a shared gigabit port (119 MiB/s line rate); 80 MiB/s effective assumed",
  dirtyFactor: "Clark et al. 2005 (thesis ref. [7]): pre-copy sends each page about once plus the writable working set",
  downtime: "ch. 1.1: \"downtime as low as 60 milliseconds\"; 0.2 s assumed for CPU-bound guests",
  migrationDom0Source: "assumed: half a CPU to push a gigabit stream (the thesis has no migration-only figure)",
  migrationDom0Dest: "assumed, as the source side",
  migrationSlowdown: "assumed: dirty-page logging costs the guest 10% while pre-copied (Clark et al.: a few to 20%)",
  interval: "assumed: the thesis does not state its engine's interval (SPEC 5's default)",
  cooldown: "assumed (engine default; the thesis does not describe one)",
  smoothing: "assumed (engine default; CSLB reads vm.cpu, not cpu_avg)",
  band: "assumed: the thesis does not give CSLB's two thresholds (policies/cslb.policy `band`)",
  duration: "assumed: the thesis does not state a test's length; work per run is fitted for this length, so runs scale with it",
  engineRoundCpu: "Tables 5.1–5.4: the engine VM used 0.058–0.085% (mean 0.069%) of 8 CPUs = 55 ms of CPU per 10 s round",
  engineDom0: "Tables 5.1–5.4: Dom0 +0.29–0.76 points (mean 0.47) with the engine's VM running (6.3: \"resources used by Dom0 to run another virtual machine\"): 4% of one CPU on its host",
};

/** What differs between the SPEC CPU2000 benchmarks: fitted by `calibrate.ts`. */
export interface BenchmarkConstants {
  /** CPU-seconds (one full CPU) per benchmark run. */
  readonly work: number;
  /** Dom0/hypervisor CPU at rest, percent of one CPU per host. */
  readonly dom0: number;
  /** Seconds a VM idles between two of its runs (the harness records one run and starts the next). */
  readonly runGap: number;
  /** Seconds from a VM's last run to its successor computing (hand-over). */
  readonly startup: number;
  /** Dom0 CPU on the successor's host during that start-up, percent of one CPU. */
  readonly startupDom0: number;
}

/**
 * Each benchmark's constants, as `calibrateBenchmark` fits them (and
 * test/engine/simulator/calibrate.test.ts checks): work, Dom0 at rest and
 * the run gap reproduce the no-engine static row of Tables 5.1–5.4 (runs,
 * Dom0%, Idle%); the start-up reproduces the "No Policy Engine" row of
 * Tables 5.5–5.8 (Idle%, Dom0%), static placement pooled over the lengths.
 */
export const BENCHMARK_CONSTANTS: Readonly<Record<ThesisBenchmark, BenchmarkConstants>> = {
  gap: { work: 107.4, dom0: 28.7, runGap: 2.57, startup: 12.9, startupDom0: 100 },
  gcc: { work: 61, dom0: 28.8, runGap: 1.27, startup: 4.5, startupDom0: 100 },
  mesa: { work: 127.9, dom0: 28.6, runGap: 2.01, startup: 8, startupDom0: 100 },
  vpr: { work: 121.2, dom0: 28.1, runGap: 5.53, startup: 10.1, startupDom0: 100 },
};

export const BENCHMARK_SOURCES: Readonly<Record<keyof BenchmarkConstants, string>> = {
  work: "fitted: the no-engine static workload (Tables 5.1–5.4, nine busy VMs, 5/4) gives the row's runs in the model's own accounting",
  dom0: "fitted: the same row's Dom0% (scaled to 100%)",
  runGap: "fitted: the same row's Idle% (scaled): on the host with four busy VMs a run boundary idles a thread",
  startup: "fitted: static placement pooled over the lengths of Tables 5.5–5.8 gives the \"No Policy Engine\" row's Dom0% (scaled); the Dom0 is charged in the successor's idle slot, not on top of it",
  startupDom0: "assumed: one Dom0 CPU busy loading the benchmark through the block back-end",
};
