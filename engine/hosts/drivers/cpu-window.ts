/**
 * CPU measured on the agent's own clock (SPEC 6, measured facts): a driver
 * adds a reading of cumulative CPU counters every second or so, and facts
 * are the averages over the last `windowMs` (default 10 s). So what the
 * engine sees does not depend on when, or how often, someone asks for
 * `/facts`. A guest's first `graceMs` after it appears (boot, incoming
 * migration) are not counted as its load: a guest that just arrived shows
 * the copy and the restart, not its work.
 */
import type { MeasuredFieldName } from "../../types.js";

/** What a driver's facts say they measured: `cpu` always (the window), the others where they were read. */
export function measuredFields(otherCpu: number | undefined, memAvail: number | undefined): MeasuredFieldName[] {
  return ["cpu", ...(otherCpu !== undefined ? (["other_cpu"] as const) : []), ...(memAvail !== undefined ? (["mem_avail"] as const) : [])];
}

/** Cumulative CPU counters at one moment, in ns of CPU time. */
export interface CpuSample {
  /** Milliseconds on the driver's clock. */
  readonly at: number;
  /** The whole host's busy time (all CPUs), when the driver can read it. */
  readonly hostBusyNs?: bigint;
  /** Each guest's CPU time. */
  readonly guests: ReadonlyMap<string, bigint>;
}

export interface CpuWindowOptions {
  /** Default 10 000 ms. */
  readonly windowMs?: number;
  /** Default 5000 ms; 0 counts a guest from its first interval. */
  readonly graceMs?: number;
}

/** Rounds percent to the one decimal `top` and `xentop` print. */
function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export class CpuWindow {
  private samples: CpuSample[] = [];
  /** When each guest was first seen; guests of the very first sample were running already and get no grace. */
  private readonly firstSeen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly graceMs: number;
  private started = false;

  constructor(options: CpuWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.graceMs = options.graceMs ?? 5000;
  }

  /** Adds a reading (taken after the previous one) and forgets those that fell out of the window. */
  add(sample: CpuSample): void {
    const first = !this.started;
    this.started = true;
    for (const name of sample.guests.keys()) if (!this.firstSeen.has(name)) this.firstSeen.set(name, first ? -Infinity : sample.at);
    for (const name of this.firstSeen.keys()) if (!sample.guests.has(name)) this.firstSeen.delete(name);
    this.samples.push(sample);
    // Keep the newest reading at or before the window's start, so the window is covered whole.
    const start = sample.at - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.at <= start) this.samples.shift();
  }

  /** At least two readings: there is an interval to measure. */
  ready(): boolean {
    return this.samples.length >= 2;
  }

  /** The newest reading. */
  latest(): CpuSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /**
   * Percent of one CPU `name` used over the window, counting only intervals
   * that start after its grace; 0 while it has none (just arrived, or the
   * counter went back: a new guest under an old name).
   */
  guestCpu(name: string): number {
    const from = (this.firstSeen.get(name) ?? Infinity) + this.graceMs;
    let ns = 0n;
    let ms = 0;
    for (const [a, b] of this.pairs()) {
      const t1 = a.guests.get(name);
      const t2 = b.guests.get(name);
      if (t1 === undefined || t2 === undefined || t2 < t1 || a.at < from) continue;
      ns += t2 - t1;
      ms += b.at - a.at;
    }
    return ms > 0 ? round1((Number(ns) / (ms * 1e6)) * 100) : 0;
  }

  /**
   * Percent of one CPU the host spent outside its guests over the window:
   * per interval, the host's busy time less that of its guests (never
   * below 0). Undefined where the host's time is not read.
   */
  otherCpu(): number | undefined {
    let ns = 0n;
    let ms = 0;
    for (const [a, b] of this.pairs()) {
      if (a.hostBusyNs === undefined || b.hostBusyNs === undefined || b.hostBusyNs < a.hostBusyNs) return undefined;
      let guests = 0n;
      for (const [name, t2] of b.guests) {
        // A guest that started within the interval (boot, incoming migration) counts from 0: a new QEMU's counter starts there.
        const t1 = a.guests.get(name) ?? 0n;
        if (t2 >= t1) guests += t2 - t1;
      }
      const other = b.hostBusyNs - a.hostBusyNs - guests;
      if (other > 0n) ns += other;
      ms += b.at - a.at;
    }
    return ms > 0 ? round1((Number(ns) / (ms * 1e6)) * 100) : undefined;
  }

  private *pairs(): Generator<[CpuSample, CpuSample]> {
    for (let i = 1; i < this.samples.length; i++) if (this.samples[i]!.at > this.samples[i - 1]!.at) yield [this.samples[i - 1]!, this.samples[i]!];
  }
}
