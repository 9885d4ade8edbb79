/**
 * The sim driver's time source. Injectable so tests run a 1 GiB migration or
 * an hour of workload in microseconds: `ManualClock` only moves when told.
 */

export interface Clock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Runs `fn` once after `ms`; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

/** Wall time and Node timers (timers are unref'd so they never keep a process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock for tests: time stands still until `advance`, which fires due callbacks in time order. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): () => void {
    const p: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(p);
    return () => {
      this.pending = this.pending.filter((q) => q !== p);
    };
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way (at its own time). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
  }

  /** Callbacks not yet run. */
  get scheduled(): number {
    return this.pending.length;
  }
}
