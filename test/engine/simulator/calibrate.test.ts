/**
 * The calibration (engine/simulator/calibrate.ts): the constants stored in
 * calibration.ts are what the fit gives from the thesis's rows without the
 * engine, and the fitted model reproduces those rows — and only those.
 */
import { describe, expect, it } from "vitest";
import { fitHandover, fitStatic } from "../../../engine/simulator/calibrate.js";
import { BENCHMARK_CONSTANTS } from "../../../engine/simulator/calibration.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { STATIC_WORKLOAD_ITERATIONS, thesisScenario, withIterations } from "../../../engine/simulator/scenario.js";
import { scaledTo100, staticNoEngineRow } from "../../../engine/simulator/thesis-tables.js";

describe("calibration from the thesis's inputs", () => {
  it("gap: the stored work, Dom0 and run gap reproduce Table 5.1's no-engine column, and re-fitting them moves them < 1%", () => {
    const target = scaledTo100(staticNoEngineRow("gap"));
    const scenario = withIterations(thesisScenario("gap", 9), STATIC_WORKLOAD_ITERATIONS);
    const results = Array.from({ length: 3 }, (_, r) => simulateOnce(scenario, null, 1000 + r, r));
    const avg = (k: "runs" | "dom0_pct" | "idle_pct") => results.reduce((a, x) => a + x[k], 0) / results.length;
    expect(Math.abs(avg("runs") / target.runs - 1)).toBeLessThan(0.01);
    expect(avg("dom0_pct")).toBeCloseTo(target.dom0_pct, 1);
    expect(Math.abs(avg("idle_pct") - target.idle_pct)).toBeLessThan(0.1);
    const c = BENCHMARK_CONSTANTS.gap;
    const refit = fitStatic("gap", c);
    expect(Math.abs(refit.work / c.work - 1)).toBeLessThan(0.01);
    expect(Math.abs(refit.dom0 / c.dom0 - 1)).toBeLessThan(0.01);
    expect(Math.abs(refit.runGap / c.runGap - 1)).toBeLessThan(0.05);
  }, 120_000);

  it("gap: the stored hand-over start-up is what the pooled static row's Dom0% gives (within 1 s)", () => {
    const c = BENCHMARK_CONSTANTS.gap;
    const refit = fitHandover("gap", c);
    expect(Math.abs(refit.startup - c.startup)).toBeLessThan(1);
    expect(refit.startupDom0).toBe(c.startupDom0);
  }, 120_000);
});
