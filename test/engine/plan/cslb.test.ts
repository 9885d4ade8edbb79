/**
 * The default policies (policies/cslb.policy + evacuate.policy) worked by
 * hand on small snapshots: each test writes the arithmetic of the round in a
 * comment and asserts the exact plan. Units: vm.cpu is percent of one CPU,
 * host.load = sum(vm.cpu) / cpus, want = (mid - dst.load) * dst.cpus.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { PolicySource } from "../../../engine/policy/set.js";
import { applyPlan, asJson, defaultPolicySources, host, planWith } from "../../scenarios/helpers.js";

let defaults: PolicySource[];
beforeAll(async () => {
  defaults = await defaultPolicySources();
});

const migrate = (vm: string, from: string, to: string, rule = "cslb.balance") => ({ kind: "migrate", vm, from, to, rule });

describe("CSLB by hand", () => {
  it("two quad-core hosts, nine VMs, eight busy (the thesis testbed)", async () => {
    // xen1: vm1..vm5 at 95, vm6 at 2  → 477 / 4 = 119.25
    // xen2: vm7..vm9 at 95            → 285 / 4 =  71.25
    // mean = (119.25 + 71.25) / 2 = 95.25; lower 85.25; upper 105.25; mid 95.25
    // xen1 heavy (119.25 > 105.25), xen2 light (71.25 < 85.25)
    // want = (95.25 - 71.25) * 4 = 96 → the VM closest to 96 without exceeding it:
    // vm1..vm5 tie at 95 → by name: vm1
    const facts = {
      hosts: [
        host("xen1", 4, 16384, [["vm1", 95], ["vm2", 95], ["vm3", 95], ["vm4", 95], ["vm5", 95], ["vm6", 2]]),
        host("xen2", 4, 16384, [["vm7", 95], ["vm8", 95], ["vm9", 95]]),
      ],
    };
    const plan = await planWith(defaults, facts);
    expect(asJson(plan)).toEqual({
      actions: [migrate("vm1", "xen1", "xen2")],
      skipped: [],
      errors: [],
      groups: { cslb: { xen1: "heavy", xen2: "light" }, evacuate: {} },
      values: { cslb: { band: 10, mean: 95.25, lower: 85.25, upper: 105.25, mid: 95.25 }, evacuate: {} },
    });

    // Next round: xen1 382 / 4 = 95.5, xen2 380 / 4 = 95; mean 95.25, band [85.25, 105.25]:
    // both moderate, nothing moves (no ping-pong).
    const next = await planWith(defaults, applyPlan(facts, plan));
    expect(next.actions).toEqual([]);
    expect(next.groups["cslb"]).toEqual({ xen1: "moderate", xen2: "moderate" });
  });

  it("pairs the heaviest host with the lightest, then the next with the next (six hosts)", async () => {
    // 2-CPU hosts. loads: h1 (120+60+20)/2 = 100, h2 (100+60)/2 = 80, h3 100/2 = 50,
    // h4 20/2 = 10, h5 40/2 = 20, h6 80/2 = 40
    // mean = 300 / 6 = 50; lower 40; upper 60; mid 50
    // heavy: h1, h2 (in that order, by load desc); light: h4, h5 (h6 = 40 is not < 40)
    // h1: dst = lightest free light = h4 (10); want = (50 - 10) * 2 = 80 → h1b (60; h1a 120 > 80)
    // h2: h4 is busy now → dst = h5 (20); want = (50 - 20) * 2 = 60 → h2b (60 ≤ 60)
    const facts = {
      hosts: [
        host("h1", 2, 8192, [["h1a", 120], ["h1b", 60], ["h1c", 20]]),
        host("h2", 2, 8192, [["h2a", 100], ["h2b", 60]]),
        host("h3", 2, 8192, [["h3a", 100]]),
        host("h4", 2, 8192, [["h4a", 20]]),
        host("h5", 2, 8192, [["h5a", 40]]),
        host("h6", 2, 8192, [["h6a", 80]]),
      ],
    };
    const plan = await planWith(defaults, facts);
    expect(asJson(plan)).toEqual({
      actions: [migrate("h1b", "h1", "h4"), migrate("h2b", "h2", "h5")],
      skipped: [],
      errors: [],
      groups: {
        cslb: { h1: "heavy", h2: "heavy", h3: "moderate", h4: "light", h5: "light", h6: "moderate" },
        evacuate: {},
      },
      values: { cslb: { band: 10, mean: 50, lower: 40, upper: 60, mid: 50 }, evacuate: {} },
    });
  });

  it("passes over the closest VM when the destination lacks its memory", async () => {
    // 4-CPU hosts, 8192 MiB. h1: big 150, mid 100 (6000 MiB), small 50 → 300 / 4 = 75
    // h2: x 20 (4000 MiB) → 5, mem_free 4192; h3: y 100, z 60 → 40
    // mean = 120 / 3 = 40; lower 30; upper 50; mid 40 → h1 heavy, h2 light, h3 moderate
    // want = (40 - 5) * 4 = 140: big 150 > 140; mid 100 fits want but needs 6000 > 4192 MiB
    // (can_move is false) → small 50
    const facts = {
      hosts: [
        host("h1", 4, 8192, [["big", 150, 1000], ["mid", 100, 6000], ["small", 50, 1000]]),
        host("h2", 4, 8192, [["x", 20, 4000]]),
        host("h3", 4, 8192, [["y", 100, 1000], ["z", 60, 1000]]),
      ],
    };
    const plan = await planWith(defaults, facts);
    expect(plan.actions).toEqual([migrate("small", "h1", "h2")]);
    expect(plan.values["cslb"]).toEqual({ band: 10, mean: 40, lower: 30, upper: 50, mid: 40 });
    expect(plan.skipped).toEqual([]);
  });

  it("falls back to the smallest movable VM when none fits the transfer vector", async () => {
    // h1: big 150, mid 100 (6000 MiB) → 250 / 4 = 62.5; h2: x 20 (4000 MiB) → 5; h3: y 100, z 50 → 37.5
    // mean = 105 / 3 = 35; lower 25; upper 45; mid 35 → h1 heavy, h2 light
    // want = (35 - 5) * 4 = 120: mid (100) would fit but lacks memory on h2, big 150 > 120
    // → first pick is none → `??` → smallest movable by cpu asc: mid cannot move → big
    const facts = {
      hosts: [
        host("h1", 4, 8192, [["big", 150, 1000], ["mid", 100, 6000]]),
        host("h2", 4, 8192, [["x", 20, 4000]]),
        host("h3", 4, 8192, [["y", 100, 1000], ["z", 50, 1000]]),
      ],
    };
    const plan = await planWith(defaults, facts);
    expect(plan.actions).toEqual([migrate("big", "h1", "h2")]);
    expect(plan.values["cslb"]).toEqual({ band: 10, mean: 35, lower: 25, upper: 45, mid: 35 });
  });

  it("leaves pinned and cooling-down VMs where they are", async () => {
    // h1: p1 100 (pinned), p2 90 (migrated 30 s ago), p3 80, p4 10 → 280 / 4 = 70; h2: q1 20 → 5
    // mean 37.5; lower 27.5; upper 47.5; mid 37.5; want = (37.5 - 5) * 4 = 130
    // by cpu desc under 130: p1 pinned, p2 in cooldown (30 < 60 s) → p3
    const facts = {
      hosts: [
        host("h1", 4, 16384, [["p1", 100, 1024, { pinned: true }], ["p2", 90], ["p3", 80], ["p4", 10]]),
        host("h2", 4, 16384, [["q1", 20]]),
      ],
      recent: [{ vm: "p2", seconds_ago: 30 }],
    };
    expect((await planWith(defaults, facts)).actions).toEqual([migrate("p3", "h1", "h2")]);
    // With a 20 s cooldown p2 (30 s ago) may move: it is the closest to 130.
    expect((await planWith(defaults, facts, { cooldown: 20 })).actions).toEqual([migrate("p2", "h1", "h2")]);
  });

  it("recovers a down host, drains a maintenance host, and balances the rest", async () => {
    // up: h1 a 40 → 10, h2 b 80 → 20; h3 maintenance: c 40 (2000 MiB), d 20 (3000 MiB); h4 down: e 60
    // recover (priority 110): e → the up host with the lowest projected load: h1 (10 < 20); h1 → 25
    // drain (priority 100): largest mem first: d → h2 (20 < 25), h2 → 25; c → h1 (25 = 25, by name)
    // cslb at round start: mean over up hosts = (10 + 20) / 2 = 15; band [5, 25]: both moderate.
    const facts = {
      hosts: [
        host("h1", 4, 8192, [["a", 40, 1000]]),
        host("h2", 4, 8192, [["b", 80, 1000]]),
        host("h3", 4, 8192, [["c", 40, 2000], ["d", 20, 3000]], { state: "maintenance" }),
        host("h4", 4, 8192, [["e", 60, 1000]], { state: "down" }),
      ],
    };
    const plan = await planWith(defaults, facts);
    expect(asJson(plan)).toEqual({
      actions: [
        { kind: "restart", vm: "e", from: "h4", to: "h1", rule: "evacuate.recover" },
        migrate("d", "h3", "h2", "evacuate.drain"),
        migrate("c", "h3", "h1", "evacuate.drain"),
      ],
      skipped: [],
      errors: [],
      groups: { cslb: { h1: "moderate", h2: "moderate", h3: "offline", h4: "offline" }, evacuate: {} },
      values: { cslb: { band: 10, mean: 15, lower: 5, upper: 25, mid: 15 }, evacuate: {} },
    });
  });

  it("plans nothing on a balanced cluster", async () => {
    // loads 40, 45, 50 → mean 45, band [35, 55]: all moderate
    const facts = {
      hosts: [host("a", 2, 4096, [["a1", 80]]), host("b", 2, 4096, [["b1", 90]]), host("c", 2, 4096, [["c1", 60], ["c2", 40]])],
    };
    const plan = await planWith(defaults, facts);
    expect(asJson(plan)).toEqual({
      actions: [],
      skipped: [],
      errors: [],
      groups: { cslb: { a: "moderate", b: "moderate", c: "moderate" }, evacuate: {} },
      values: { cslb: { band: 10, mean: 45, lower: 35, upper: 55, mid: 45 }, evacuate: {} },
    });
  });

  it("takes --param band: a wider band sees the same cluster as balanced", async () => {
    // The six-host cluster above with band = 30: band [20, 80]; h1 100 heavy, h4 10 light.
    // want = (50 - 10) * 2 = 80 → h1b (60). h2 (80) is not > 80: one move only.
    const facts = {
      hosts: [
        host("h1", 2, 8192, [["h1a", 120], ["h1b", 60], ["h1c", 20]]),
        host("h2", 2, 8192, [["h2a", 100], ["h2b", 60]]),
        host("h3", 2, 8192, [["h3a", 100]]),
        host("h4", 2, 8192, [["h4a", 20]]),
        host("h5", 2, 8192, [["h5a", 40]]),
        host("h6", 2, 8192, [["h6a", 80]]),
      ],
    };
    const plan = await planWith(defaults, facts, {}, ["cslb.band=30"]);
    expect(plan.actions).toEqual([migrate("h1b", "h1", "h4")]);
    expect(plan.values["cslb"]).toEqual({ band: 30, mean: 50, lower: 20, upper: 80, mid: 50 });
    const bare = await planWith(defaults, facts, {}, ["band=30"]);
    expect(bare).toEqual(plan);
  });

  it("stops at max_per_round and lists what did not fit", async () => {
    // The six-host cluster with max_per_round = 1: h1b → h4 is planned; for h2 the
    // light host h5 is free but can_move is false (round full), so both picks are
    // none and the migrate is listed as skipped: `vm is none`, noting the full round.
    const facts = {
      hosts: [
        host("h1", 2, 8192, [["h1a", 120], ["h1b", 60], ["h1c", 20]]),
        host("h2", 2, 8192, [["h2a", 100], ["h2b", 60]]),
        host("h3", 2, 8192, [["h3a", 100]]),
        host("h4", 2, 8192, [["h4a", 20]]),
        host("h5", 2, 8192, [["h5a", 40]]),
        host("h6", 2, 8192, [["h6a", 80]]),
      ],
    };
    const plan = await planWith(defaults, facts, { max_per_round: 1 });
    expect(plan.actions).toEqual([migrate("h1b", "h1", "h4")]);
    expect(plan.skipped).toEqual([{ kind: "migrate", to: "h5", rule: "cslb.balance", reason: "vm is none (the round is full: max_per_round is 1)" }]);
  });

  it("explains each action with its binding and lets", async () => {
    const facts = {
      hosts: [host("xen1", 4, 16384, [["vm1", 95], ["vm2", 95], ["vm3", 95], ["vm4", 95], ["vm5", 95], ["vm6", 2]]), host("xen2", 4, 16384, [["vm7", 95], ["vm8", 95], ["vm9", 95]])],
    };
    const plan = await planWith(defaults, facts, { explain: true });
    expect(plan.actions).toEqual([
      { ...migrate("vm1", "xen1", "xen2"), explain: { binding: { src: "xen1" }, lets: { dst: "xen2", want: 96, vm: "vm1" } } },
    ]);
  });
});
