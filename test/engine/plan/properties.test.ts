/**
 * Properties of every plan over random clusters (fast-check), with the
 * default policies plus the affinity example (so constraints are in play):
 * one action per VM, destinations up / with memory / under max_per_host,
 * max_per_round, constraints hold after the plan, the cluster is conserved
 * (every action starts where the VM is at that point), and the same input
 * gives the same JSON.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { validateFacts } from "../../../engine/plan/facts.js";
import { planRound } from "../../../engine/plan/index.js";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type Plan, type PlanSettings } from "../../../engine/types.js";
import { cslbBaseline } from "../../../bench/cslb-baseline.js";
import { defaultPolicySources, policySourcesOf } from "../../scenarios/helpers.js";

const STATES = ["up", "up", "up", "up", "degraded", "maintenance", "down"] as const;

const vmArb = fc.record({
  cpu: fc.integer({ min: 0, max: 200 }),
  mem: fc.integer({ min: 1, max: 16 }).map((n) => n * 256),
  pinned: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  tier: fc.constantFrom("web", "web", "db", "cache"),
  gpu: fc.constantFrom(false, false, false, true),
});

const hostArb = fc.record({
  state: fc.constantFrom(...STATES),
  cpus: fc.integer({ min: 1, max: 8 }),
  mem: fc.integer({ min: 4, max: 32 }).map((n) => n * 1024),
  gpu: fc.boolean(),
  vms: fc.array(vmArb, { maxLength: 6 }),
});

const clusterArb = fc.record({
  hosts: fc.array(hostArb, { minLength: 1, maxLength: 8 }),
  recentEvery: fc.integer({ min: 2, max: 7 }),
  migratingEvery: fc.integer({ min: 0, max: 9 }),
  settings: fc.record({
    cooldown: fc.integer({ min: 0, max: 120 }),
    max_per_host: fc.integer({ min: 1, max: 3 }),
    max_per_round: fc.integer({ min: 1, max: 20 }),
  }),
});

type Cluster = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

/** Facts from the random record: names h0.., v0..; some VMs recent, some in flight. */
function factsOf(c: Cluster): Facts {
  let n = 0;
  const hosts = c.hosts.map((h, i) => ({
    name: `h${i}`,
    state: h.state,
    cpus: h.cpus,
    mem: h.mem,
    labels: h.gpu ? { gpu: "yes" } : {},
    vms: h.vms.map((v) => ({
      name: `v${n++}`,
      cpu: v.cpu,
      mem: v.mem,
      pinned: v.pinned,
      labels: v.gpu ? { tier: v.tier, needs: "gpu" } : { tier: v.tier },
    })),
  }));
  const recent: { vm: string; seconds_ago: number }[] = [];
  const migrating: { vm: string; from: string; to: string }[] = [];
  hosts.forEach((h, i) =>
    h.vms.forEach((v, j) => {
      const k = Number(v.name.slice(1));
      if (k % c.recentEvery === 0) recent.push({ vm: v.name, seconds_ago: (k * 37) % 150 });
      else if (c.migratingEvery > 0 && k % c.migratingEvery === 1 && hosts.length > 1) {
        migrating.push({ vm: v.name, from: h.name, to: hosts[(i + 1 + j) % hosts.length]!.name === h.name ? hosts[(i + 1) % hosts.length]!.name : hosts[(i + 1 + j) % hosts.length]!.name });
      }
    }),
  );
  const r = validateFacts({ hosts, recent, migrating: migrating.filter((m) => m.from !== m.to) });
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return r.facts;
}

let set: CompiledPolicySet;
let defaultsOnly: CompiledPolicySet;
beforeAll(async () => {
  const d = await loadPolicySet(await defaultPolicySources());
  defaultsOnly = d.set!;
  const sources = [...(await defaultPolicySources()), ...(await policySourcesOf(["policies/examples/affinity.policy"]))];
  const loaded = await loadPolicySet(sources);
  if (loaded.set === null) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  set = loaded.set;
});

function check(facts: Facts, settings: PlanSettings, plan: Plan): void {
  const hostOf = new Map<string, string>();
  const vmInfo = new Map<string, { cpu: number; mem: number; tier: string | undefined }>();
  const hostInfo = new Map(facts.hosts.map((h) => [h.name, h]));
  for (const h of facts.hosts) for (const v of h.vms) {
    hostOf.set(v.name, h.name);
    vmInfo.set(v.name, { cpu: v.cpu, mem: v.mem, tier: v.labels["tier"] });
  }
  const moves = plan.actions.filter((a) => a.kind !== "alert") as Extract<Plan["actions"][number], { kind: "migrate" | "restart" }>[];

  // One action per VM, and each starts where the VM is at that point of the plan.
  const seen = new Set<string>();
  for (const a of moves) {
    expect(seen.has(a.vm), `${a.vm} has two actions`).toBe(false);
    seen.add(a.vm);
    expect(hostOf.get(a.vm)).toBe(a.from);
    expect(hostInfo.get(a.to)!.state).toBe("up");
    expect(a.to).not.toBe(a.from);
    hostOf.set(a.vm, a.to);
  }
  expect(moves.length).toBeLessThanOrEqual(settings.max_per_round);

  // Conservation: same VMs, same totals, each on exactly one host.
  expect([...hostOf.keys()].sort()).toEqual(facts.hosts.flatMap((h) => h.vms.map((v) => v.name)).sort());

  // Destinations have the memory for everything they hold after the plan.
  const memUsed = new Map<string, number>();
  for (const [vm, h] of hostOf) memUsed.set(h, (memUsed.get(h) ?? 0) + vmInfo.get(vm)!.mem);
  for (const a of moves) expect(memUsed.get(a.to)!).toBeLessThanOrEqual(hostInfo.get(a.to)!.mem);

  // max_per_host: planned moves plus in-flight ones, per host that takes part (a lost source does not count).
  const count = new Map<string, number>();
  const bump = (h: string) => count.set(h, (count.get(h) ?? 0) + 1);
  for (const a of moves) {
    if (a.kind === "migrate") bump(a.from);
    bump(a.to);
  }
  for (const [h, n] of count) {
    const inFlight = facts.migrating.filter((m) => m.from === h || m.to === h).length;
    expect(n + inFlight, `host ${h}`).toBeLessThanOrEqual(Math.max(settings.max_per_host, inFlight));
  }

  // Constraints (affinity example) hold for every placed VM in the cluster after the plan.
  for (const a of moves) {
    const info = vmInfo.get(a.vm)!;
    if (info.tier === "db") {
      const dbs = [...hostOf].filter(([vm, h]) => h === a.to && vmInfo.get(vm)!.tier === "db");
      expect(dbs.length, `db ${a.vm} on ${a.to}`).toBe(1);
    }
    const needsGpu = facts.hosts.flatMap((h) => h.vms).find((v) => v.name === a.vm)!.labels["needs"] === "gpu";
    if (needsGpu) expect(hostInfo.get(a.to)!.labels["gpu"]).toBe("yes");
  }
}

describe("plans over random clusters", () => {
  it("respect every refusal and constraint, conserve the cluster, and are deterministic", () => {
    let actions = 0;
    let skipped = 0;
    fc.assert(
      fc.property(clusterArb, (c) => {
        const facts = factsOf(c);
        const settings: PlanSettings = { ...DEFAULT_PLAN_SETTINGS, ...c.settings };
        const plan = planRound(set, facts, settings);
        actions += plan.actions.length;
        skipped += plan.skipped.length;
        check(facts, settings, plan);
        expect(plan.errors).toEqual([]);
        expect(JSON.stringify(planRound(set, facts, settings))).toBe(JSON.stringify(plan));
      }),
      { numRuns: 300, seed: 4242 },
    );
    // The generator must actually exercise the planner.
    expect(actions).toBeGreaterThan(300);
    expect(skipped).toBeGreaterThan(50);
  });

  it("match the hand-written TypeScript CSLB of the benchmark exactly (default policies)", () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const facts = factsOf(c);
        const settings: PlanSettings = { ...DEFAULT_PLAN_SETTINGS, ...c.settings };
        expect(JSON.parse(JSON.stringify(planRound(defaultsOnly, facts, settings)))).toEqual(
          JSON.parse(JSON.stringify(cslbBaseline(facts, settings))),
        );
      }),
      { numRuns: 300, seed: 99 },
    );
  });
});

const ORDER_STATES = ["up", "up", "up", "degraded", "maintenance", "down"] as const;

const orderClusterArb = fc.record({
  hosts: fc.array(
    fc.record({
      state: fc.constantFrom(...ORDER_STATES),
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

function rawOf(c: typeof orderClusterArb extends fc.Arbitrary<infer T> ? T : never): Raw {
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

let orderSet: CompiledPolicySet;
beforeAll(async () => {
  const sources = [...(await defaultPolicySources()), ...(await policySourcesOf(["policies/examples/affinity.policy"]))];
  const loaded = await loadPolicySet(sources);
  if (loaded.set === null) throw new Error(loaded.diagnostics.map((d) => d.message).join("\n"));
  orderSet = loaded.set;
});

describe("the same cluster listed in another order", () => {
  it("gives the same plan, byte for byte, with and without --explain", () => {
    let actions = 0;
    fc.assert(
      fc.property(orderClusterArb, (c) => {
        const raw = rawOf(c);
        for (const explain of [false, true]) {
          const settings = { ...DEFAULT_PLAN_SETTINGS, max_per_round: 6, explain };
          const a = JSON.stringify(planRound(orderSet, facts(raw), settings));
          const b = JSON.stringify(planRound(orderSet, facts(shuffled(raw, c.keys)), settings));
          expect(b).toBe(a);
          actions += (JSON.parse(a) as { actions: unknown[] }).actions.length;
        }
      }),
      { numRuns: 200, seed: 2026 },
    );
    expect(actions).toBeGreaterThan(100);
  });
});
