/**
 * `plan_10k_script`: the `plan_10k` round with CSLB's task selection done by
 * a script function (policies/examples/cslb-script.policy), so the cost of
 * crossing into QuickJS shows beside the pure-language round on the same
 * facts. The plan must equal the hand-written CSLB's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { planRound } from "../engine/plan/index.js";
import { loadPolicySet } from "../engine/policy/set.js";
import { median, medianMs, round, type Benchmark } from "./api.js";
import { cslbBaseline } from "./cslb-baseline.js";
import { BENCH_SETTINGS, generateFacts, repoRoot } from "./plan.js";

const bench: Benchmark = {
  name: "plan_10k_script",
  description: "plan_10k with task selection in a QuickJS script function (cslb-script.policy)",
  async run() {
    const root = repoRoot();
    const sources = [
      { file: "policies/examples/cslb-script.policy", text: readFileSync(join(root, "policies/examples/cslb-script.policy"), "utf8") },
      { file: "policies/evacuate.policy", text: readFileSync(join(root, "policies/evacuate.policy"), "utf8") },
    ];
    const loaded = await loadPolicySet(sources);
    if (loaded.set === null) throw new Error(`cslb-script does not load: ${loaded.diagnostics.map((d) => d.message).join("; ")}`);
    const set = loaded.set;
    try {
      const facts = generateFacts();
      const plan = planRound(set, facts, BENCH_SETTINGS);
      const baseline = cslbBaseline(facts, BENCH_SETTINGS);
      if (plan.errors.length > 0) throw new Error(`plan_10k_script: ${plan.errors[0]!.message}`);
      if (!isDeepStrictEqual(JSON.parse(JSON.stringify(plan.actions)), JSON.parse(JSON.stringify(baseline.actions)))) {
        throw new Error("plan_10k_script: the scripted CSLB and the hand-written CSLB disagree");
      }
      const times: number[] = [];
      for (let i = 0; i < 7; i++) times.push(await medianMs(() => planRound(set, facts, BENCH_SETTINGS), 1, i === 0 ? 1 : 0));
      return { actions: plan.actions.length, median_ms: round(median(times), 1) };
    } finally {
      // The QuickJS sandbox is freed even when the plans disagree.
      set.dispose();
    }
  },
};

export default bench;
