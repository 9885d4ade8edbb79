/**
 * policies/examples/cslb-hysteresis.policy over several rounds (each round's
 * plan applied to the facts): plain CSLB ping-pongs a big VM between two
 * hosts forever, the hysteresis variant holds still; on a bigger cluster the
 * hysteresis variant settles (a round plans nothing) within a few rounds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PolicySource } from "../../../engine/policy/set.js";
import type { Plan } from "../../../engine/types.js";
import { applyPlan, defaultPolicySources, host, planWith, policySourcesOf } from "../../scenarios/helpers.js";

let plain: PolicySource[];
let hysteresis: PolicySource[];
beforeAll(async () => {
  plain = await defaultPolicySources();
  hysteresis = await policySourcesOf(["policies/examples/cslb-hysteresis.policy", "policies/evacuate.policy"]);
});

type RawFacts = Parameters<typeof applyPlan>[0];

async function rounds(sources: PolicySource[], facts: RawFacts, n: number): Promise<{ plans: Plan[]; facts: RawFacts }> {
  const plans: Plan[] = [];
  let current = facts;
  for (let i = 0; i < n; i++) {
    const plan = await planWith(sources, current);
    plans.push(plan);
    current = applyPlan(current, plan);
  }
  return { plans, facts: current };
}

const moves = (plans: Plan[]) => plans.map((p) => p.actions.map((a) => (a.kind === "alert" ? "alert" : `${a.vm}:${a.from}>${a.to}`)).join(","));

describe("CSLB with hysteresis", () => {
  it("holds still where plain CSLB ping-pongs", async () => {
    // 1-CPU hosts: h1 a 80 → 80, h2 b 20 → 20. mean 50.
    // Plain CSLB: want = (50 - 20) * 1 = 30, no VM ≤ 30 on h1 → the smallest, a, moves: 0 | 100.
    // Then h2 heavy: want 50 → b (20) moves to h1: 20 | 80; then a moves back; then b: period 4.
    const facts = { hosts: [host("h1", 1, 8192, [["a", 80]]), host("h2", 1, 8192, [["b", 20]])] };
    const p = await rounds(plain, facts, 8);
    expect(moves(p.plans)).toEqual(["a:h1>h2", "b:h2>h1", "a:h2>h1", "b:h1>h2", "a:h1>h2", "b:h2>h1", "a:h2>h1", "b:h1>h2"]);
    // Hysteresis: h1 heavy (80 > 50 + 15), h2 light (20 < 50 - 5), want 30: no VM fits → nothing.
    // Moving a anyway would fail the gain test: 20 + 80 + 5 ≤ 80 - 80 is false.
    const h = await rounds(hysteresis, facts, 3);
    expect(moves(h.plans)).toEqual(["", "", ""]);
  });

  it("settles on a larger cluster within a few rounds", async () => {
    // A seeded cluster of six 4-CPU hosts with uneven load.
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const cpuFor = [260, 40, 150, 310, 90, 30];
    const facts = {
      hosts: cpuFor.map((total, i) => {
        const vms: [string, number][] = [];
        let left = total;
        let j = 0;
        while (left > 0) {
          const cpu = Math.min(left, 10 + Math.floor(rand() * 60));
          vms.push([`v${i}${j++}`, cpu]);
          left -= cpu;
        }
        return host(`h${i}`, 4, 65536, vms);
      }),
    };
    const r = await rounds(hysteresis, facts, 12);
    const perRound = r.plans.map((p) => p.actions.length);
    const firstQuiet = perRound.indexOf(0);
    expect(firstQuiet).toBeGreaterThan(0);
    expect(perRound.slice(firstQuiet).every((n) => n === 0)).toBe(true);
    // Spread of load shrinks: max - min after settling is below the starting 70 points.
    const loads = r.facts.hosts.map((h) => h.vms.reduce((s, v) => s + v.cpu, 0) / 4);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThan(77.5 - 7.5);
  });
});
