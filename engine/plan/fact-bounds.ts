/**
 * The limits a fact's value must keep, and the shared empty labels: what both
 * readers of a snapshot (facts.ts, the general path, and facts-scan.ts, the
 * fast one) build with.
 */

/** Shared by every VM and host without labels (frozen, prototype-free). */
export const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * The largest value a real host can report (SPEC 1, "implausibly large
 * numbers"): a finite but huge number (`cpu: 1e308`) would make `load`
 * Infinity and CSLB silently plan nothing. The bounds lie far above any
 * machine sold today (Linux's NR_CPUS tops out at 8192; the largest
 * servers hold tens of TiB) and far below where sums over 200 000 VMs
 * lose precision. Documented in docs/planner.md.
 */
export const FACT_BOUNDS = {
  /** Logical CPUs of one host. */
  cpus: 16_384,
  /** Percent of one logical CPU (`vm.cpu`, `cpu_avg`): every CPU of the largest host busy. */
  cpu: 16_384 * 100,
  /** MiB (`host.mem`, `vm.mem`): 1 PiB. */
  mem: 1024 ** 3,
  /** `recent[].seconds_ago`: about 31 years. */
  seconds_ago: 1_000_000_000,
} as const;
