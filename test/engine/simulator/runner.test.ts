import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readFile } from "node:fs/promises";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { thesisScenario, withIterations } from "../../../engine/simulator/scenario.js";
import type { Facts } from "../../../engine/types.js";

let cslb: CompiledPolicySet;
beforeAll(async () => {
  const path = "policies/cslb.policy";
  cslb = (await loadPolicySet([{ file: path, text: await readFile(path, "utf8") }])).set!;
});
afterAll(() => cslb.dispose());

/** Each round's facts of one simulated hour of the thesis testbed with CSLB. */
function rounds(benchmark: "gap" | "vpr", iterations: number, seed: number): Facts[] {
  const out: Facts[] = [];
  simulateOnce(withIterations(thesisScenario(benchmark), iterations), cslb, seed, 0, undefined, ({ facts }) => out.push(facts));
  return out;
}

describe("simulator: the engine's vm.cpu_changes in the facts", () => {
  it("counts no run gap as a level change, even vpr's 5.5 s gap that dips a 10 s sample by 55 points", () => {
    // A stint of 10^6 runs: no VM starts or stops within the hour, only run gaps dip the samples.
    for (const benchmark of ["gap", "vpr"] as const) {
      const facts = rounds(benchmark, 1e6, 1);
      expect(facts).toHaveLength(360);
      const dips = facts.flatMap((f) => f.hosts.flatMap((h) => h.vms.map((v) => v.cpu))).filter((cpu) => cpu > 5 && cpu < 90);
      expect(dips.length).toBeGreaterThan(0);
      expect(Math.max(...facts.flatMap((f) => f.hosts.flatMap((h) => h.vms.map((v) => v.cpu_changes))))).toBe(0);
    }
  });

  it("counts hand-overs: at one run per stint every VM changes level dozens of times an hour, at 64 about once", () => {
    const last = (f: Facts[]) => f.at(-1)!.hosts.flatMap((h) => h.vms.map((v) => v.cpu_changes));
    const short = last(rounds("gap", 1, 1));
    expect(Math.min(...short)).toBeGreaterThan(20);
    const long = last(rounds("gap", 64, 1));
    expect(Math.max(...long)).toBeLessThan(5);
  });
});
