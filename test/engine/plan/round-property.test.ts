import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRound } from "../../../engine/plan/round.js";
import type { PlacementConstraint, RoundState } from "../../../grammar/view.js";
import { DEFAULT_PLAN_SETTINGS, type Facts, type PlanSettings } from "../../../engine/types.js";
import { facts as validated } from "./round-helpers.js";

const STATES = ["up", "up", "up", "degraded", "maintenance", "down"] as const;

/** A random valid snapshot: 2–7 hosts of 0–5 VMs, some in flight, some cooling down. */
const clusterArb = fc
  .record({
    hosts: fc.array(
      fc.record({
        state: fc.constantFrom(...STATES),
        cpus: fc.integer({ min: 1, max: 8 }),
        mem: fc.integer({ min: 0, max: 16000 }),
        vms: fc.array(
          fc.record({
            cpu: fc.integer({ min: 0, max: 200 }),
            mem: fc.integer({ min: 0, max: 5000 }),
            pinned: fc.boolean(),
            db: fc.boolean(),
          }),
          { maxLength: 5 },
        ),
      }),
      { minLength: 2, maxLength: 7 },
    ),
    flights: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 }),
    recents: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 120 })), { maxLength: 3 }),
  })
  .map(({ hosts, flights, recents }) => {
    const json = {
      hosts: hosts.map((h, i) => ({
        name: `h${i}`,
        state: h.state,
        cpus: h.cpus,
        mem: h.mem,
        vms: h.vms.map((v, j) => ({ name: `v${i}_${j}`, cpu: v.cpu, mem: v.mem, pinned: v.pinned, labels: v.db ? { tier: "db" } : {} })),
      })),
      migrating: [] as { vm: string; from: string; to: string }[],
      recent: [] as { vm: string; seconds_ago: number }[],
    };
    const all = json.hosts.flatMap((h) => h.vms.map((v) => ({ vm: v.name, host: h.name })));
    const seen = new Set<string>();
    for (const [a, b] of flights) {
      if (all.length === 0) break;
      const v = all[a % all.length]!;
      const others = json.hosts.filter((h) => h.name !== v.host);
      if (seen.has(v.vm) || others.length === 0) continue;
      seen.add(v.vm);
      json.migrating.push({ vm: v.vm, from: v.host, to: others[b % others.length]!.name });
    }
    const cooled = new Set<string>();
    for (const [a, ago] of recents) {
      if (all.length === 0) break;
      const v = all[a % all.length]!;
      if (cooled.has(v.vm)) continue;
      cooled.add(v.vm);
      json.recent.push({ vm: v.vm, seconds_ago: ago });
    }
    return validated(json);
  });

const settingsArb = fc.record({
  max_per_host: fc.integer({ min: 1, max: 3 }),
  max_per_round: fc.integer({ min: 1, max: 10 }),
  requireFencing: fc.boolean(),
  fenceAll: fc.boolean(),
  antiAffinity: fc.boolean(),
});

type Op = { op: "migrate"; vm: number; host: number } | { op: "evacuate"; host: number } | { op: "recover"; host: number } | { op: "alert" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("migrate" as const), vm: fc.nat(), host: fc.nat() }),
  fc.record({ op: fc.constant("evacuate" as const), host: fc.nat() }),
  fc.record({ op: fc.constant("recover" as const), host: fc.nat() }),
  fc.record({ op: fc.constant("alert" as const) }),
);

const dbApart: PlacementConstraint = {
  name: "p.db_apart",
  allows: (vm, host) => vm.labels["tier"] !== "db" || !host.vms.some((o) => o !== vm && o.labels["tier"] === "db"),
};

function setup(f: Facts, s: { max_per_host: number; max_per_round: number; requireFencing: boolean; fenceAll: boolean; antiAffinity: boolean }) {
  const settings: PlanSettings = {
    ...DEFAULT_PLAN_SETTINGS,
    max_per_host: s.max_per_host,
    max_per_round: s.max_per_round,
    requireFencing: s.requireFencing,
    fenced: new Set(s.fenceAll ? f.hosts.map((h) => h.name) : []),
  };
  return { settings, constraints: s.antiAffinity ? [dbApart] : [] };
}

/** Runs the ops; checks at each migrate that `canMove` predicts the outcome. */
function play(r: RoundState, ops: readonly Op[]): void {
  const origin = { rule: "p.r" };
  for (const op of ops) {
    if (op.op === "alert") r.alert("a", origin);
    else if (r.hosts.length === 0) continue;
    else if (op.op === "evacuate") r.evacuate(r.hosts[op.host % r.hosts.length]!, origin);
    else if (op.op === "recover") r.recover(r.hosts[op.host % r.hosts.length]!, origin);
    else if (r.vms.length > 0) {
      const vm = r.vms[op.vm % r.vms.length]!;
      const to = r.hosts[op.host % r.hosts.length]!;
      const predicted = r.canMove(vm, to);
      expect(predicted).toBe(r.refusal(vm, to) === null);
      expect(r.migrate(vm, to, origin)).toBe(predicted);
    }
  }
}

describe("round properties", () => {
  it("never breaks a planner rule, conserves CPU and memory, and is deterministic", () => {
    fc.assert(
      fc.property(clusterArb, settingsArb, fc.array(opArb, { maxLength: 12 }), (f, s, ops) => {
        const { settings, constraints } = setup(f, s);
        const r = createRound(f, settings, constraints);
        play(r, ops);
        const res = r.result();

        const factHost = new Map(f.hosts.map((h) => [h.name, h]));
        const factVm = new Map(f.hosts.flatMap((h) => h.vms.map((v) => [v.name, { vm: v, host: h.name }] as const)));
        const inFlight = new Map<string, number>();
        for (const m of f.migrating) for (const e of [m.from, m.to]) inFlight.set(e, (inFlight.get(e) ?? 0) + 1);
        const migrating = new Set(f.migrating.map((m) => m.vm));
        const agoOf = new Map(f.recent.map((x) => [x.vm, x.seconds_ago]));

        const moved = new Set<string>();
        const planned = new Map<string, number>();
        const received = new Set<string>();
        let moveCount = 0;
        for (const a of res.actions) {
          if (a.kind === "alert") continue;
          moveCount++;
          expect(moved.has(a.vm)).toBe(false);
          moved.add(a.vm);
          const v = factVm.get(a.vm)!;
          expect(a.from).toBe(v.host);
          expect(factHost.get(a.to)!.state).toBe("up");
          expect(a.to).not.toBe(a.from);
          received.add(a.to);
          planned.set(a.to, (planned.get(a.to) ?? 0) + 1);
          if (a.kind === "migrate") {
            expect(v.vm.pinned).toBe(false);
            expect(migrating.has(a.vm)).toBe(false);
            expect((agoOf.get(a.vm) ?? Infinity) >= settings.cooldown).toBe(true);
            expect(factHost.get(a.from)!.state).not.toBe("down");
            planned.set(a.from, (planned.get(a.from) ?? 0) + 1);
          } else {
            expect(factHost.get(a.from)!.state).toBe("down");
            if (settings.requireFencing) expect(settings.fenced.has(a.from)).toBe(true);
          }
        }
        expect(moveCount).toBeLessThanOrEqual(settings.max_per_round);
        for (const [h, n] of planned) expect(n + (inFlight.get(h) ?? 0)).toBeLessThanOrEqual(settings.max_per_host);

        // The projected cluster agrees with the actions and conserves totals.
        let cpu = 0;
        let mem = 0;
        let count = 0;
        for (const h of r.hosts) {
          let hc = 0;
          let hm = 0;
          for (const v of h.vms) {
            expect(v.host).toBe(h);
            hc += v.cpu;
            hm += v.mem;
          }
          expect(h.load).toBe(hc / h.cpus);
          expect(h.mem_used).toBe(hm);
          expect(h.mem_free).toBe(h.mem - hm);
          expect(h.vm_count).toBe(h.vms.length);
          if (received.has(h.name)) expect(h.mem_used).toBeLessThanOrEqual(h.mem);
          if (constraints.length > 0) {
            for (const v of h.vms) if (moved.has(v.name)) expect(dbApart.allows(v, h)).toBe(true);
          }
          cpu += hc;
          mem += hm;
          count += h.vms.length;
        }
        const facts0 = f.hosts.flatMap((h) => h.vms);
        expect(cpu).toBe(facts0.reduce((x, v) => x + v.cpu, 0));
        expect(mem).toBe(facts0.reduce((x, v) => x + v.mem, 0));
        expect(count).toBe(facts0.length);
        for (const v of r.vms) {
          const action = res.actions.find((a) => a.kind !== "alert" && a.vm === v.name);
          expect(v.host.name).toBe(action !== undefined && action.kind !== "alert" ? action.to : factVm.get(v.name)!.host);
        }

        // Same input, same result, byte for byte.
        const again = createRound(f, settings, constraints);
        play(again, ops);
        expect(JSON.stringify(again.result())).toBe(JSON.stringify(res));
      }),
      { numRuns: 400, seed: 20261129 },
    );
  });
});
