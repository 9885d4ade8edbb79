/**
 * Exponential moving averages of each VM's CPU (SPEC 1 `vm.cpu_avg`,
 * config `smoothing`). Weighted by the real time between samples, so a
 * late or skipped round does not distort the average: after `dt` seconds a
 * new sample weighs `1 - exp(-dt / smoothing)`. Keyed by VM name, so a VM
 * keeps its history across migrations.
 *
 * Beside the average, each VM's level changes are counted (`vm.cpu_changes`,
 * a fact beside SPEC 1's `cpu_avg`): a change is a move of more than
 * `LEVEL_STEP` points from the VM's level seen in two samples in a row on
 * the same side (a level is what two samples in a row agree on). The count
 * and the time watched both decay with time constant `CHANGE_WINDOW`; their
 * ratio is the observed rate, changes per hour over about the last hour
 * (over the time watched while that is shorter).
 */
interface Average {
  value: number;
  at: number;
  /** The CPU level the last counted change set, or the one the first samples agree on. */
  level: number;
  /** False until two samples in a row agree on a level (within `LEVEL_STEP`): a first sample may be a dip. */
  settled: boolean;
  /** Side (±1) of the previous sample when it was beyond `LEVEL_STEP` from `level`; 0 otherwise. */
  pending: number;
  /** Level changes, each weighted e^(−age / CHANGE_WINDOW). */
  changes: number;
  /** Seconds watched, weighted as the changes are: CHANGE_WINDOW × (1 − e^(−watched / CHANGE_WINDOW)). */
  exposure: number;
}

/**
 * Half of one CPU, in percent points. A busy single-vCPU guest starting or
 * stopping moves its CPU by about 100; a pause of g seconds inside a sample
 * interval I (a run gap, a start-up) dips the samples it touches by g / I ×
 * 100 points in all, so two samples in a row both more than 50 off on the
 * same side need a pause of at least one whole interval: a dip shorter than
 * the interval is never a change, a real stop or start always is.
 */
export const LEVEL_STEP = 50;
/** Seconds: time constant of `cpu_changes`' count and time watched (the engine's setting, one hour). */
export const CHANGE_WINDOW = 3600;

/** Per-VM CPU averages across rounds. */
export class CpuSmoother {
  private readonly averages = new Map<string, Average>();

  /** @param timeConstant seconds (`smoothing`); 0 means no smoothing. */
  constructor(private readonly timeConstant: number) {}

  /** Feeds a fresh sample taken at `nowMs`; returns the new average. */
  sample(vm: string, cpu: number, nowMs: number): number {
    const prev = this.averages.get(vm);
    if (!prev) {
      this.averages.set(vm, { value: cpu, at: nowMs, level: cpu, settled: false, pending: 0, changes: 0, exposure: 0 });
      return cpu;
    }
    const dt = Math.max(0, (nowMs - prev.at) / 1000);
    if (dt === 0) return prev.value;
    countChange(prev, cpu, dt);
    if (this.timeConstant <= 0) {
      prev.value = cpu;
      prev.at = nowMs;
      return cpu;
    }
    const weight = 1 - Math.exp(-dt / this.timeConstant);
    prev.value += weight * (cpu - prev.value);
    prev.at = nowMs;
    return prev.value;
  }

  /** The current average, or `fallback` for a VM never sampled. */
  get(vm: string, fallback: number): number {
    return this.averages.get(vm)?.value ?? fallback;
  }

  /** Level changes per hour of a VM (`vm.cpu_changes`): counted / watched; 0 before two samples. */
  changes(vm: string): number {
    const a = this.averages.get(vm);
    return a === undefined || a.exposure === 0 ? 0 : (a.changes * 3600) / a.exposure;
  }

  /** Drops VMs not sampled for a long while (deleted guests), so memory stays bounded. */
  prune(nowMs: number, olderThanMs: number): void {
    for (const [vm, a] of this.averages) if (nowMs - a.at > olderThanMs) this.averages.delete(vm);
  }
}

/** Decays the VM's change count by `dt` seconds and counts a change the new sample confirms. */
function countChange(a: Average, cpu: number, dt: number): void {
  const keep = Math.exp(-dt / CHANGE_WINDOW);
  a.changes *= keep;
  a.exposure = a.exposure * keep + CHANGE_WINDOW * (1 - keep);
  const off = cpu - a.level;
  if (!a.settled) {
    if (Math.abs(off) <= LEVEL_STEP) a.settled = true;
    else a.level = cpu;
    return;
  }
  const side = off > LEVEL_STEP ? 1 : off < -LEVEL_STEP ? -1 : 0;
  if (side !== 0 && side === a.pending) {
    a.changes += 1;
    a.level = cpu;
    a.pending = 0;
  } else a.pending = side;
}
