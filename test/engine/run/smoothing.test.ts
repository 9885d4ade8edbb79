import { describe, expect, it } from "vitest";
import { CHANGE_WINDOW, CpuSmoother, LEVEL_STEP } from "../../../engine/run/smoothing.js";

/** Feeds `cpus` to one VM, one sample every `every` seconds from t = 0; returns the smoother. */
function feed(cpus: readonly number[], every = 10, timeConstant = 300): CpuSmoother {
  const s = new CpuSmoother(timeConstant);
  cpus.forEach((cpu, i) => s.sample("vm", cpu, i * every * 1000));
  return s;
}

/** Seconds watched after `seconds`, weighted as the changes are. */
const watched = (seconds: number): number => CHANGE_WINDOW * (1 - Math.exp(-seconds / CHANGE_WINDOW));

describe("CpuSmoother: cpu_avg", () => {
  it("weights each sample by the time since the last one", () => {
    const s = new CpuSmoother(300);
    expect(s.sample("vm", 0, 0)).toBe(0);
    expect(s.sample("vm", 100, 10_000)).toBeCloseTo(100 * (1 - Math.exp(-10 / 300)), 12);
    // A skipped round: 20 s weigh as much as two 10 s rounds.
    expect(s.sample("vm", 100, 30_000)).toBeCloseTo(100 * (1 - Math.exp(-30 / 300)), 12);
    expect(s.get("vm", 7)).toBeCloseTo(100 * (1 - Math.exp(-30 / 300)), 12);
    expect(s.get("other", 7)).toBe(7);
  });
});

describe("CpuSmoother: cpu_changes (level changes per hour)", () => {
  it("is 0 for a VM never sampled or sampled once, and for a steady VM", () => {
    expect(new CpuSmoother(300).changes("vm")).toBe(0);
    expect(feed([100]).changes("vm")).toBe(0);
    expect(feed([100, 100, 98, 100, 100]).changes("vm")).toBe(0);
  });

  it("counts a stop once, when the second sample confirms it, as 1 per time watched", () => {
    // 0, 10, 20 s busy; idle from 30 s. The count is confirmed at 40 s, 40 s watched.
    const s = feed([100, 100, 100, 1, 1]);
    expect(s.changes("vm")).toBeCloseTo(3600 / watched(40), 9);
    // Staying idle adds nothing; the count and the time watched decay alike.
    s.sample("vm", 1, 3600_000);
    expect(s.changes("vm")).toBeCloseTo((Math.exp(-(3600 - 40) / CHANGE_WINDOW) * 3600) / watched(3600), 9);
  });

  it("counts a stop and a later start as two", () => {
    const s = feed([100, 100, 0, 0, 0, 0, 100, 100]);
    // Confirmed at 30 s (weight e^(−40/3600) by 70 s) and at 70 s.
    expect(s.changes("vm")).toBeCloseTo(((Math.exp(-40 / CHANGE_WINDOW) + 1) * 3600) / watched(70), 9);
  });

  it("ignores a dip shorter than one interval, even when it falls into two samples", () => {
    // xentop's average over 10 s: a 2.6 s run gap dips one sample by 26 points, or two by 13 each;
    // vpr's 5.5 s gap dips one by 55 — beyond LEVEL_STEP, but the next sample is back at the level.
    expect(LEVEL_STEP).toBe(50);
    expect(feed([100, 74, 100, 87, 87, 100, 45, 100, 100]).changes("vm")).toBe(0);
    // A 9.9 s pause split 4.9 + 5 over two samples: both 49–50 points off, neither beyond 50.
    expect(feed([100, 51, 50, 100]).changes("vm")).toBe(0);
  });

  it("takes a level only where two samples in a row agree: a first sample in a dip is no level", () => {
    // The engine's first sample of a vpr VM caught 5.5 s of run gap (45); it runs at 100 after.
    expect(feed([45, 100, 100, 100]).changes("vm")).toBe(0);
    expect(feed([100, 45, 100, 100, 100]).changes("vm")).toBe(0);
    // Once settled, a stop counts (the level 100 settled at 20 s, the stop confirmed at 50 s).
    expect(feed([45, 100, 100, 100, 0, 0]).changes("vm")).toBeCloseTo(3600 / watched(50), 9);
  });

  it("does not count two samples beyond the step on opposite sides", () => {
    expect(feed([50, 50, 101, 0, 50, 50]).changes("vm")).toBe(0);
  });

  it("counts from the new level after a change, and with smoothing off", () => {
    // 100 → 0 (confirmed at 30 s), then 60 is only 60 above the new level 0: a second change at 50 s.
    const s = feed([100, 100, 0, 0, 60, 60], 10, 0);
    expect(s.get("vm", -1)).toBe(60);
    expect(s.changes("vm")).toBeCloseTo(((Math.exp(-20 / CHANGE_WINDOW) + 1) * 3600) / watched(50), 9);
  });

  it("is forgotten with the VM's average when pruned", () => {
    const s = feed([100, 100, 0, 0]);
    expect(s.changes("vm")).toBeGreaterThan(0);
    s.prune(10 * 3600_000, 3600_000);
    expect(s.changes("vm")).toBe(0);
  });
});
