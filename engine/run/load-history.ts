/**
 * The hosts' load over the last hour, for the dashboard's chart (SPEC 11),
 * and the migrations and restarts issued in it. Kept in memory and bounded:
 * at most one point per `minGapS` (so a short interval cannot grow it) for
 * `windowS`, stored in columns (one number per host per point), and at most
 * `maxMarks` marks.
 */
import type { HistoryMark, LoadHistoryPart } from "../http/dashboard/view.js";

export interface LoadHistoryOptions {
  /** Seconds kept (default 3600). */
  readonly windowS?: number;
  /** Least seconds between two points (default 5). */
  readonly minGapS?: number;
  /** Most marks kept (default 500). */
  readonly maxMarks?: number;
}

export class LoadHistory {
  private readonly t: number[] = [];
  private readonly columns = new Map<string, (number | null)[]>();
  private readonly marks: HistoryMark[] = [];
  private readonly windowS: number;
  private readonly minGapS: number;
  private readonly maxMarks: number;

  constructor(options: LoadHistoryOptions = {}) {
    this.windowS = options.windowS ?? 3600;
    this.minGapS = options.minGapS ?? 5;
    this.maxMarks = options.maxMarks ?? 500;
  }

  /** Records each host's load (percent) at `atMs`; false when it came too soon after the last point. */
  record(atMs: number, loads: Iterable<readonly [string, number]>): boolean {
    const t = Math.round(atMs) / 1000;
    const last = this.t[this.t.length - 1];
    if (last !== undefined && t - last < this.minGapS) return false;
    const n = this.t.length;
    this.t.push(t);
    for (const [host, load] of loads) {
      let col = this.columns.get(host);
      if (!col) this.columns.set(host, (col = new Array<number | null>(n).fill(null)));
      // Whole percents: a chart needs no more, and it halves what a page loads at 1,000 hosts.
      col.push(Math.round(load));
    }
    for (const col of this.columns.values()) if (col.length === n) col.push(null);
    this.trim(t);
    return true;
  }

  /** Notes a migration or restart issued at `atMs`. */
  mark(atMs: number, m: Omit<HistoryMark, "t">): void {
    this.marks.push({ t: Math.round(atMs) / 1000, ...m });
    if (this.marks.length > this.maxMarks) this.marks.splice(0, this.marks.length - this.maxMarks);
  }

  private trim(now: number): void {
    const cut = now - this.windowS;
    let drop = 0;
    while (drop < this.t.length && this.t[drop]! < cut) drop++;
    if (drop > 0) {
      this.t.splice(0, drop);
      for (const [host, col] of this.columns) {
        col.splice(0, drop);
        // A host gone for the whole window leaves the chart.
        if (col.every((v) => v === null)) this.columns.delete(host);
      }
    }
    while (this.marks.length > 0 && this.marks[0]!.t < cut) this.marks.shift();
  }

  /** The points after `afterT` (all when omitted), and every mark of the window. */
  part(afterT?: number): LoadHistoryPart {
    let from = 0;
    if (afterT !== undefined) while (from < this.t.length && this.t[from]! <= afterT) from++;
    // No prototype: a host may be called "__proto__".
    const hosts = Object.create(null) as Record<string, (number | null)[]>;
    for (const [host, col] of this.columns) hosts[host] = col.slice(from);
    return { t: this.t.slice(from), hosts, marks: [...this.marks] };
  }

  /** Points held (for tests and the bound). */
  get size(): number {
    return this.t.length;
  }
}
