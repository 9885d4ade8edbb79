/**
 * "A plan is a pure function of the facts, the policies and their params"
 * (SPEC 2.3): the same cluster listed in any order (hosts, each host's VMs,
 * `migrating`, `recent`, label keys) gives the same plan, byte for byte, with
 * and without explanations, through the default policies plus the affinity
 * example (constraints in play).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { validateFacts } from "../engine/facts.js";
import { planRound } from "../engine/planner.js";
import { loadPolicySet } from "../engine/policy-set.js";
import { DEFAULT_PLAN_SETTINGS, type Facts } from "../engine/types.js";
import type { CompiledPolicySet } from "../grammar/compile-types.js";
import { defaultPolicySources, policySourcesOf } from "./scenarios/helpers.js";

const STATES = ["up", "up", "up", "degraded", "maintenance", "down"] as const;

const clusterArb = fc.record({
  hosts: fc.array(
    fc.record({
      state: fc.constantFrom(...STATES),
      cpus: fc.integer({ min: 1, max: 8 }),
      mem: fc.integer({ min: 2, max: 16 }).map((n) => n * 1024),
      gpu: fc.boolean(),
      vms: fc.array(
        fc.record({
          cpu: fc.integer({ min: 0, max: 300 }),
          mem: fc.integer({ min: 1, max: 8 }).map((n) => n * 512),
          tier: fc.constantFrom("web", "db", "cache"),
          gpu: fc.boolean(),
        }),
        { maxLength: 5 },
      ),
    }),
    { minLength: 1, maxLength: 7 },
  ),
  // Sort keys that permute hosts, VMs and the in-flight/recent lists.
  keys: fc.array(fc.integer(), { minLength: 64, maxLength: 64 }),
});

type Labels = Record<string, string>;
type Raw = { hosts: { name: string; labels: Labels; vms: { name: string; labels: Labels }[] }[]; migrating: unknown[]; recent: unknown[] };

function rawOf(c: typeof clusterArb extends fc.Arbitrary<infer T> ? T : never): Raw {
  let n = 0;
  const hosts = c.hosts.map((h, i) => ({
    name: `h${i}`,
    state: h.state,
    cpus: h.cpus,
    mem: h.mem,
    labels: (h.gpu ? { gpu: "yes", rack: `r${i % 2}` } : { rack: `r${i % 2}` }) as Labels,
    vms: h.vms.map((v) => ({ name: `v${n++}`, cpu: v.cpu, mem: v.mem, labels: (v.gpu ? { tier: v.tier, needs: "gpu" } : { tier: v.tier }) as Labels })),
  }));
  const migrating: unknown[] = [];
  const recent: unknown[] = [];
  hosts.forEach((h, i) =>
    h.vms.forEach((v, j) => {
      if (j % 3 === 1 && hosts.length > 1) migrating.push({ vm: v.name, from: h.name, to: hosts[(i + 1) % hosts.length]!.name });
      else if (j % 3 === 2) recent.push({ vm: v.name, seconds_ago: (i * 31 + j * 17) % 120 });
    }),
  );
  return { hosts, migrating, recent };
}

function permute<T>(items: readonly T[], keys: readonly number[], salt: number): T[] {
  return items
    .map((item, i) => ({ item, key: keys[(i * 7 + salt) % keys.length]! ^ (i * 2654435761) }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);
}

function reversedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).reverse());
}

function shuffled(raw: Raw, keys: readonly number[]): Raw {
  return {
    hosts: permute(raw.hosts, keys, 1).map((h, i) => ({
      ...h,
      labels: reversedLabels(h.labels),
      vms: permute(h.vms, keys, i + 3).map((v) => ({ ...v, labels: reversedLabels(v.labels) })),
    })),
    migrating: permute(raw.migrating, keys, 5),
    recent: permute(raw.recent, keys, 11),
  };
}

function facts(raw: Raw): Facts {
  const r = validateFacts(raw);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.facts;
}

let set: CompiledPolicySet;
beforeAll(async () => {
  const sources = [...(await defaultPolicySources()), ...(await policySourcesOf(["policies/examples/affinity.policy"]))];
  const loaded = await loadPolicySet(sources);
  if (loaded.set === null) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  set = loaded.set;
});

describe("the same cluster listed in another order", () => {
  it("gives the same plan, byte for byte, with and without --explain", () => {
    let actions = 0;
    fc.assert(
      fc.property(clusterArb, (c) => {
        const raw = rawOf(c);
        for (const explain of [false, true]) {
          const settings = { ...DEFAULT_PLAN_SETTINGS, max_per_round: 6, explain };
          const a = JSON.stringify(planRound(set, facts(raw), settings));
          const b = JSON.stringify(planRound(set, facts(shuffled(raw, c.keys)), settings));
          expect(b).toBe(a);
          actions += (JSON.parse(a) as { actions: unknown[] }).actions.length;
        }
      }),
      { numRuns: 200, seed: 2026 },
    );
    expect(actions).toBeGreaterThan(100);
  });
});
