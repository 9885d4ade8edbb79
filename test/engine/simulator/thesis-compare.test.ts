/**
 * `simulate --thesis` as a library (engine/simulator/thesis-compare.ts):
 * the verdict rule, the thesis's values and baselines taken exactly from
 * the data file, the presets (nine busy for the overhead tables, the
 * table's lengths for the dynamic ones), and CIs that hold the means.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { compareTables, judge, selectTables } from "../../../engine/simulator/thesis-compare.js";
import { thesisTable } from "../../../engine/simulator/thesis-tables.js";

let cslb: CompiledPolicySet;
beforeAll(async () => {
  const loaded = await loadPolicySet([{ file: "policies/cslb.policy", text: await readFile("policies/cslb.policy", "utf8") }]);
  cslb = loaded.set!;
});
afterAll(() => cslb.dispose());

describe("thesis comparison", () => {
  it("judges a cell: within tolerance, direction only, or disagrees", () => {
    // Runs: 2% of the thesis's value.
    expect(judge("runs", 222.7, 218.3, { thesis: 234.96, model: 230 })).toBe("match");
    expect(judge("runs", 222.7, 213.9, { thesis: 234.96, model: 230.7 })).toBe("direction");
    expect(judge("runs", 222.7, 213.9, { thesis: 234.96, model: 210 })).toBe("disagree");
    // Percent cells: 1 point.
    expect(judge("idle_pct", 8.07, 7.1, { thesis: 3.69, model: 5.2 })).toBe("match");
    expect(judge("idle_pct", 8.07, 3.29, { thesis: 3.69, model: 5.2 })).toBe("disagree");
    // The baseline row itself has no direction.
    expect(judge("idle_pct", 3.69, 5.2, null)).toBe("disagree");
    expect(judge("engine_pct", 0.083, 0.052, { thesis: 0, model: 0 })).toBe("direction");
  });

  it("selects one table or all of them", () => {
    expect(selectTables("5.6")!.map((t) => t.id)).toEqual(["5.6"]);
    expect(selectTables("all")!).toHaveLength(9);
    expect(selectTables("5.9")).toBeNull();
  });

  it("Table 5.1: thesis cells exact from the data file, nine busy VMs, the no-engine column as baseline", () => {
    const [t] = compareTables([thesisTable("5.1")!], { cslb, repeats: 2, seed: 3 });
    expect(t!.table).toBe("5.1");
    expect(t!.benchmark).toBe("gap");
    expect(t!.rows.map((r) => [r.label, r.policy, r.iterations])).toEqual([
      ["Gap with Policy Engine", "cslb", null],
      ["Gap without Policy Engine", "static", null],
    ]);
    const [on, off] = t!.rows;
    expect(on!.thesis).toEqual({ runs: 243.406, vm_pct: 94.514, dom0_pct: 7.107, idle_pct: 1.226, engine_pct: 0.085 });
    // (243.406 − 247.603) / 247.603 = −1.695 %.
    expect(on!.vs_pooled_static.thesis).toBe(-1.7);
    expect(off!.vs_pooled_static).toEqual({ thesis: null, model: null });
    // Scaled: 7.107 of 102.932.
    expect(on!.thesis_scaled.dom0_pct).toBe(6.9);
    expect(on!.model.engine_pct).toBeGreaterThan(0);
    expect(off!.model.engine_pct).toBe(0);
    for (const r of t!.rows)
      for (const [k, [lo, hi]] of Object.entries(r.model_ci95)) {
        expect(lo).toBeLessThanOrEqual(r.model[k as keyof typeof r.model] + 1e-9);
        expect(hi).toBeGreaterThanOrEqual(r.model[k as keyof typeof r.model] - 1e-9);
      }
  }, 60_000);

  it("Table 6.1 runs all four benchmarks' static workloads, one row per thesis row", () => {
    const [t] = compareTables([thesisTable("6.1")!], { cslb, repeats: 1, seed: 1 });
    expect(t!.benchmark).toBe("all");
    expect(t!.rows.map((r) => `${r.benchmark}/${r.policy}`)).toEqual(["gap/cslb", "gap/static", "gcc/cslb", "gcc/static", "mesa/cslb", "mesa/static", "vpr/cslb", "vpr/static"]);
    // gcc's runs are about 1.8× gap's (shorter runs), as in the thesis: each preset has its own work per run.
    const runs = (b: string) => t!.rows.find((r) => r.benchmark === b && r.policy === "static")!.model.runs;
    expect(runs("gcc") / runs("gap")).toBeGreaterThan(1.7);
  }, 60_000);
});
