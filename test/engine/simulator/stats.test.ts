/**
 * The statistics of a sweep (engine/simulator/stats.ts): Student's t
 * quantiles and the 95 % confidence interval of a mean, checked against
 * published values and a sample worked by hand.
 */
import { describe, expect, it } from "vitest";
import { ci95HalfWidth, mean, sampleSd, tQuantile975 } from "../../../engine/simulator/stats.js";

describe("stats", () => {
  it("t(0.975, df) matches the published table, and tends to z = 1.96", () => {
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(8)).toBe(2.306);
    expect(tQuantile975(17)).toBe(2.11);
    expect(tQuantile975(30)).toBe(2.042);
    // Beyond the table: t(40) = 2.0211, t(60) = 2.0003, t(120) = 1.9799.
    expect(tQuantile975(40)).toBeCloseTo(2.0211, 3);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.9799, 3);
    expect(tQuantile975(0)).toBe(Infinity);
  });

  it("the 95% CI of the mean of 1..5 is 3 ± 2.776 × 1.5811 / √5", () => {
    const xs = [1, 2, 3, 4, 5];
    expect(mean(xs)).toBe(3);
    expect(sampleSd(xs)).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(ci95HalfWidth(xs)).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
    // Nine repeats: t(8) = 2.306.
    const nine = [230, 231, 229, 232, 228, 230, 231, 229, 230];
    expect(ci95HalfWidth(nine)).toBeCloseTo((2.306 * sampleSd(nine)) / 3, 12);
    expect(ci95HalfWidth([4])).toBe(0);
    expect(sampleSd([4])).toBe(0);
  });
});
