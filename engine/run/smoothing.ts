/**
 * Exponential moving averages of each VM's CPU (SPEC 1 `vm.cpu_avg`,
 * config `smoothing`). Weighted by the real time between samples, so a
 * late or skipped round does not distort the average: after `dt` seconds a
 * new sample weighs `1 - exp(-dt / smoothing)`. Keyed by VM name, so a VM
 * keeps its history across migrations.
 */
interface Average {
  value: number;
  at: number;
}

/** Per-VM CPU averages across rounds. */
export class CpuSmoother {
  private readonly averages = new Map<string, Average>();

  /** @param timeConstant seconds (`smoothing`); 0 means no smoothing. */
  constructor(private readonly timeConstant: number) {}

  /** Feeds a fresh sample taken at `nowMs`; returns the new average. */
  sample(vm: string, cpu: number, nowMs: number): number {
    const prev = this.averages.get(vm);
    if (!prev || this.timeConstant <= 0) {
      this.averages.set(vm, { value: cpu, at: nowMs });
      return cpu;
    }
    const dt = Math.max(0, (nowMs - prev.at) / 1000);
    if (dt === 0) return prev.value;
    const weight = 1 - Math.exp(-dt / this.timeConstant);
    prev.value += weight * (cpu - prev.value);
    prev.at = nowMs;
    return prev.value;
  }

  /** The current average, or `fallback` for a VM never sampled. */
  get(vm: string, fallback: number): number {
    return this.averages.get(vm)?.value ?? fallback;
  }

  /** Drops VMs not sampled for a long while (deleted guests), so memory stays bounded. */
  prune(nowMs: number, olderThanMs: number): void {
    for (const [vm, a] of this.averages) if (nowMs - a.at > olderThanMs) this.averages.delete(vm);
  }
}
