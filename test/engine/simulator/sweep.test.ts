import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { runSweep, type SweepRow } from "../../../engine/simulator/sweep.js";
import { runPaired, type PairedChange } from "../../../engine/simulator/paired.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { thesisScenario, withIterations } from "../../../engine/simulator/scenario.js";

const sets: CompiledPolicySet[] = [];
async function load(path: string): Promise<CompiledPolicySet> {
  const loaded = await loadPolicySet([{ file: path, text: await readFile(path, "utf8") }]);
  expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  sets.push(loaded.set!);
  return loaded.set!;
}
let cslb: CompiledPolicySet;
let cost: CompiledPolicySet;
beforeAll(async () => {
  cslb = await load("policies/cslb.policy");
  cost = await load("policies/examples/cslb-cost.policy");
});
afterAll(() => sets.forEach((s) => s.dispose()));

const gain = (rows: SweepRow[], policy: string, iterations: number) => {
  const st = rows.find((r) => r.policy === "static" && r.iterations === iterations)!.runs;
  return (100 * (rows.find((r) => r.policy === policy && r.iterations === iterations)!.runs - st)) / st;
};

describe("simulator with the real planner", () => {
  it("is deterministic: the same seed gives identical rows", () => {
    const opts = { scenario: thesisScenario(), iterations: [1, 16], repeats: 2, seed: 9 };
    const a = runSweep({ ...opts, contestants: [{ name: "static", set: null }, { name: "cslb", set: cslb }] });
    const b = runSweep({ ...opts, contestants: [{ name: "static", set: null }, { name: "cslb", set: cslb }] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = runSweep({ ...opts, seed: 10, contestants: [{ name: "cslb", set: cslb }] });
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a.filter((r) => r.policy === "cslb")));
  });

  it("the engine migrates, charges its CPU, and the accounting sums to 100%", () => {
    const r = simulateOnce(withIterations(thesisScenario(), 1), cslb, 5, 1);
    expect(r.migrations).toBeGreaterThan(10);
    expect(r.vm_pct + r.dom0_pct + r.idle_pct + r.engine_pct).toBeCloseTo(100, 6);
    // Busy hosts share their cores with the engine, so it gets less core time than it asks for…
    expect(r.engine_pct).toBeGreaterThan(0.05);
    expect(r.engine_pct).toBeLessThan(0.069);
    // …on an idle cluster it gets all of it: 55 ms per 10 s round on 8 cores = 0.069%
    // (Tables 5.1–5.4: 0.058–0.085%); of the 360 rounds of an hour, the last one's
    // CPU falls after the end.
    const idle = thesisScenario();
    const quiet = simulateOnce({ ...idle, workload: { ...idle.workload, busy: 0 } }, cslb, 5);
    expect(quiet.engine_pct).toBeCloseTo((359 * 0.055 * 100) / (8 * 3600), 9);
    expect(quiet.migrations).toBe(0);
  });

  it("balances the imbalanced start: VM 2 idle leaves five busy on xen1 and three on xen2", () => {
    const scenario = withIterations(thesisScenario(), 100000);
    const fixed = simulateOnce(scenario, null, 3, 1);
    const balanced = simulateOnce(scenario, cslb, 3, 1);
    expect(balanced.migrations).toBe(1);
    expect(balanced.runs).toBeGreaterThan(fixed.runs * 1.06);
    expect(fixed.idle_pct).toBeGreaterThan(8);
  });

  it("reproduces the thesis's shape: CSLB no better than static at 1 iteration, ≥ 2% better from 64 on", () => {
    // 27 repeats = 3 per starting placement (stratified): stable, and seeded so it cannot flake.
    const rows = runSweep({
      scenario: thesisScenario(),
      contestants: [{ name: "static", set: null }, { name: "cslb", set: cslb }],
      iterations: [1, 64, 512],
      repeats: 27,
      seed: 1,
    });
    expect(gain(rows, "cslb", 1)).toBeLessThanOrEqual(1);
    expect(gain(rows, "cslb", 64)).toBeGreaterThanOrEqual(2);
    expect(gain(rows, "cslb", 512)).toBeGreaterThanOrEqual(2);
    // Static placement does not use the engine.
    for (const r of rows.filter((x) => x.policy === "static")) expect([r.engine_pct, r.migrations]).toEqual([0, 0]);
  }, 120_000);

  it("cslb-cost: with 2 GiB guests CSLB loses at 1 iteration and cslb-cost does not; at 64 it is not worse than CSLB (paired, 95% CI)", () => {
    const base = thesisScenario();
    const scenario = { ...base, hosts: base.hosts.map((h) => ({ ...h, mem: 32768 })), vms: base.vms.map((v) => ({ ...v, mem: 2048 })) };
    const rows = runPaired({ scenario, contestants: [{ name: "cslb", set: cslb }, { name: "cslb_cost", set: cost }], iterations: [1, 64], repeats: 9, seed: 1 });
    const row = (policy: string, iterations: number) => rows.find((r) => r.policy === policy && r.iterations === iterations)!;
    const upper = (c: PairedChange) => c.mean + c.ci95;
    expect(upper(row("cslb", 1).vs_static)).toBeLessThan(0);
    expect(upper(row("cslb_cost", 1).vs_static)).toBeGreaterThanOrEqual(0);
    // It gets there by not migrating among VMs that change level every minute or two
    // (vm.cpu_changes): 0.6 migrations per hour against CSLB's 50.9 on these seeds.
    expect(row("cslb_cost", 1).migrations_per_hour).toBeLessThan(row("cslb", 1).migrations_per_hour / 5);
    // At 64 the VMs changed about once in the hour: the horizon is long enough for 31 s of
    // migration at once, as CSLB migrates (0.00 ± 0.00 % against CSLB here, docs/simulation.md).
    expect(row("cslb_cost", 64).vs_static.mean).toBeGreaterThan(1);
    expect(upper(row("cslb_cost", 64).vs_first!)).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
