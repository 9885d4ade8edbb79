/**
 * engine/simulator/paired.ts: static and every policy on the same seeds, the
 * change in runs taken within each repeat — checked against the runs of the
 * same simulations done one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { renderPaired, runPaired } from "../../../engine/simulator/paired.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { mixSeed } from "../../../engine/rng.js";
import { thesisScenario, withIterations } from "../../../engine/simulator/scenario.js";
import { ci95HalfWidth, mean } from "../../../engine/simulator/stats.js";

let cslb: CompiledPolicySet;
let cost: CompiledPolicySet;
async function load(path: string): Promise<CompiledPolicySet> {
  return (await loadPolicySet([{ file: path, text: await readFile(path, "utf8") }])).set!;
}
beforeAll(async () => {
  cslb = await load("policies/cslb.policy");
  cost = await load("policies/examples/cslb-cost.policy");
});
afterAll(() => [cslb, cost].forEach((s) => s.dispose()));

describe("runPaired", () => {
  it("gives each policy's per-repeat change against static and against the first policy, mean and 95% CI", () => {
    const scenario = { ...thesisScenario(), duration: 900 };
    const rows = runPaired({ scenario, contestants: [{ name: "cslb", set: cslb }, { name: "cslb_cost", set: cost }], iterations: [2], repeats: 4, seed: 7 });
    const s = withIterations(scenario, 2);
    const runs = [0, 1, 2, 3].map((r) => [null, cslb, cost].map((set) => simulateOnce(s, set, mixSeed(7, r, 2), r)));
    const change = (a: number, b: number) => runs.map((x) => (100 * (x[a]!.runs - x[b]!.runs)) / x[b]!.runs);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    expect(rows).toEqual([
      { iterations: 2, policy: "cslb", vs_static: { mean: r2(mean(change(1, 0))), ci95: r2(ci95HalfWidth(change(1, 0))) }, migrations_per_hour: r2((mean(runs.map((x) => x[1]!.migrations)) * 3600) / 900), repeats: 4 },
      {
        iterations: 2,
        policy: "cslb_cost",
        vs_static: { mean: r2(mean(change(2, 0))), ci95: r2(ci95HalfWidth(change(2, 0))) },
        vs_first: { mean: r2(mean(change(2, 1))), ci95: r2(ci95HalfWidth(change(2, 1))) },
        migrations_per_hour: r2((mean(runs.map((x) => x[2]!.migrations)) * 3600) / 900),
        repeats: 4,
      },
    ]);
    expect(rows[0]!.migrations_per_hour).toBeGreaterThan(0);
    const text = renderPaired(rows).split("\n");
    expect(text[0]).toMatch(/^iterations\s+policy\s+vs static\s+vs cslb\s+migrations\/h$/);
    expect(text[3]).toContain(`${rows[1]!.vs_first!.mean >= 0 ? "+" : ""}${rows[1]!.vs_first!.mean.toFixed(2)} ± ${rows[1]!.vs_first!.ci95.toFixed(2)}%`);
  });
});
