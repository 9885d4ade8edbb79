/**
 * The dashboard's load history (SPEC 11): columns per host, whole
 * percents, at most one point per `minGapS`, an hour's window, bounded
 * marks, and parts after a time for the feed's updates.
 */
import { describe, expect, it } from "vitest";
import { LoadHistory } from "../../../engine/run/load-history.js";

describe("LoadHistory", () => {
  it("keeps a column per host, nulls where a host had no load, and parts after a time", () => {
    const h = new LoadHistory({ minGapS: 0 });
    h.record(100_000, [["a", 10.4], ["b", 20.6]]);
    h.record(110_000, [["a", 11]]);
    h.record(120_000, [["a", 12], ["c", 30], ["__proto__", 5]]);
    const all = h.part();
    expect(all.t).toEqual([100, 110, 120]);
    expect(Object.entries(all.hosts)).toEqual([
      ["a", [10, 11, 12]],
      ["b", [21, null, null]],
      ["c", [null, null, 30]],
      ["__proto__", [null, null, 5]],
    ]);
    expect(h.part(110)).toMatchObject({ t: [120], hosts: { a: [12], b: [null] } });
  });

  it("takes at most one point per minGapS and drops what is older than the window, hosts gone with it", () => {
    const h = new LoadHistory({ windowS: 60, minGapS: 5 });
    expect(h.record(0, [["old", 1]])).toBe(true);
    expect(h.record(4_000, [["old", 1]])).toBe(false);
    for (let s = 5; s <= 120; s += 5) h.record(s * 1000, [["a", s]]);
    expect(h.size).toBe(13);
    expect(h.part().t[0]).toBe(60);
    expect(Object.keys(h.part().hosts)).toEqual(["a"]);
  });

  it("bounds the marks by count and by the window", () => {
    const h = new LoadHistory({ windowS: 60, minGapS: 0, maxMarks: 3 });
    for (let i = 0; i < 5; i++) h.mark(i * 1000, { kind: "migrate", vm: `vm${i}`, from: "a", to: "b" });
    expect(h.part().marks.map((m) => m.vm)).toEqual(["vm2", "vm3", "vm4"]);
    h.record(63_500, [["a", 1]]);
    expect(h.part().marks.map((m) => m.vm)).toEqual(["vm4"]);
  });
});
