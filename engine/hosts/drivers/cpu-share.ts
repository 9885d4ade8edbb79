/**
 * How a host's CPU is shared in one step: Dom0 first (Xen boosts it), then
 * the guests by max-min fairness, each capped at its demand; then what the
 * logical CPUs' time is worth in work when hyperthreads share cores.
 */

/** Max-min fair shares of `capacity` among `demands` (each gets at most its demand). */
export function fairShares(demands: readonly number[], capacity: number): number[] {
  const out = new Array<number>(demands.length).fill(0);
  const order = demands.map((_, i) => i).sort((a, b) => demands[a]! - demands[b]! || a - b);
  let left = Math.max(0, capacity);
  let n = order.length;
  for (const i of order) {
    const fair = left / n;
    const give = Math.min(demands[i]!, fair);
    out[i] = give;
    left -= give;
    n--;
  }
  return out;
}

export interface CoreUse {
  /** Work per unit of logical CPU time (1 without contention for cores, less when threads share cores). */
  readonly workFactor: number;
  /** Physical core time per unit of logical time (for the VM%/Dom0%/Idle% accounting). */
  readonly coreFactor: number;
  /** Physical core capacity left idle, percent-seconds per second. */
  readonly idle: number;
}

/**
 * `busy` percent of logical CPU time on a host with `cores` cores: up to one
 * busy thread per core runs at full speed; each further busy thread shares
 * a core and adds only `htGain` of a core's work.
 */
export function coreUse(busy: number, cores: number, htGain: number): CoreUse {
  const c = cores * 100;
  if (busy <= 0) return { workFactor: 1, coreFactor: 1, idle: c };
  if (busy <= c) return { workFactor: 1, coreFactor: 1, idle: c - busy };
  return { workFactor: (c + htGain * (busy - c)) / busy, coreFactor: c / busy, idle: 0 };
}
