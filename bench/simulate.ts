/**
 * `simulate_hour_ms`: one simulated hour of the thesis testbed (two hosts,
 * nine VMs, eight busy, 1 iteration so the engine has work) with
 * `policies/cslb.policy` planned by the real planner every 10 s. Goal: the
 * default sweep (1…512 iterations × 5 repeats × static + cslb) in under a
 * minute, i.e. well under 600 ms per simulated hour.
 */
import { readFile } from "node:fs/promises";
import { medianMs, round, type Benchmark } from "./api.js";
import { loadPolicySet } from "../engine/policy/set.js";
import { simulateOnce } from "../engine/simulator/runner.js";
import { thesisScenario, withIterations } from "../engine/simulator/scenario.js";

const bench: Benchmark = {
  name: "simulate_hour_ms",
  description: "one simulated hour of the thesis testbed with cslb (goal: default sweep < 60 s)",
  async run() {
    const file = "policies/cslb.policy";
    const loaded = await loadPolicySet([{ file, text: await readFile(file, "utf8") }]);
    if (loaded.set === null) throw new Error(`${file} does not load`);
    const scenario = withIterations(thesisScenario(), 1);
    let seed = 0;
    try {
      const median_ms = await medianMs(() => simulateOnce(scenario, loaded.set, ++seed), 7, 2);
      return { median_ms: round(median_ms, 2) };
    } finally {
      loaded.set.dispose();
    }
  },
};

export default bench;
