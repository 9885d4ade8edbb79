import { describe, expect, it } from "vitest";
import { CpuWindow } from "../../../engine/hosts/drivers/cpu-window.js";

/** A reading at `sec` seconds: the host's busy time and each guest's, in seconds of CPU. */
function at(sec: number, host: number | undefined, guests: Record<string, number>): { at: number; hostBusyNs?: bigint; guests: Map<string, bigint> } {
  return { at: sec * 1000, hostBusyNs: host === undefined ? undefined : BigInt(Math.round(host * 1000)) * 1_000_000n, guests: new Map(Object.entries(guests).map(([k, v]) => [k, BigInt(Math.round(v * 1000)) * 1_000_000n])) };
}

describe("CPU measured over a rolling window on the agent's clock", () => {
  it("averages over the window, and an extra reading in between (a curl of /facts) changes nothing", () => {
    const steady = new CpuWindow({ windowMs: 10_000 });
    const extra = new CpuWindow({ windowMs: 10_000 });
    // g1 uses 0.5 CPU for 5 s, then 1.5 CPU for 5 s; the host 0.25 CPU besides.
    for (let t = 0; t <= 10; t++) {
      const g1 = t <= 5 ? 0.5 * t : 2.5 + 1.5 * (t - 5);
      steady.add(at(t, g1 + 0.25 * t, { g1 }));
      extra.add(at(t, g1 + 0.25 * t, { g1 }));
      if (t === 6) extra.add(at(6.5, 2.5 + 1.5 * 1.5 + 0.25 * 6.5, { g1: 2.5 + 1.5 * 1.5 }));
    }
    expect([steady.guestCpu("g1"), steady.otherCpu()]).toEqual([100, 25]);
    expect([extra.guestCpu("g1"), extra.otherCpu()]).toEqual([100, 25]);
    // Five seconds later the first half has rolled out of the window.
    for (let t = 11; t <= 15; t++) steady.add(at(t, 12.5 + 1.75 * (t - 10), { g1: 10 + 1.5 * (t - 10) }));
    expect([steady.guestCpu("g1"), steady.otherCpu()]).toEqual([150, 25]);
  });

  it("a guest's first seconds after it appears are not its load; guests running when the agent starts are counted at once", () => {
    const w = new CpuWindow({ windowMs: 10_000, graceMs: 3000 });
    w.add(at(0, 0, { old: 0 }));
    w.add(at(1, 1, { old: 1 }));
    expect(w.guestCpu("old")).toBe(100);
    // "new" arrives at 2 s (an incoming migration: its counter starts near 0) and spins from 5 s.
    w.add(at(2, 2.3, { old: 2, new: 0.3 }));
    w.add(at(3, 4.2, { old: 3, new: 1.2 }));
    expect(w.guestCpu("new")).toBe(0);
    // The host's time spent on it counts as the guest's, not as other_cpu, from the interval it started in.
    expect(w.otherCpu()).toBe(0);
    for (let t = 4; t <= 7; t++) w.add(at(t, 4.2 + 2 * (t - 3), { old: t, new: 1.2 + (t - 3) }));
    // Counted from 5 s (2 s + 3 s grace): 100 %.
    expect(w.guestCpu("new")).toBe(100);
    expect(w.guestCpu("gone")).toBe(0);
  });

  it("no host counter, no other_cpu; a counter that goes back (a new guest under an old name) is skipped", () => {
    const w = new CpuWindow({ graceMs: 0 });
    w.add(at(0, undefined, { g: 50 }));
    w.add(at(1, undefined, { g: 51 }));
    w.add(at(2, undefined, { g: 0.5 }));
    expect(w.otherCpu()).toBeUndefined();
    expect(w.guestCpu("g")).toBe(100);
  });
});
