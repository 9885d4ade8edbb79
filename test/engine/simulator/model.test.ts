import { describe, it, expect } from "vitest";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { thesisScenario, type Scenario } from "../../../engine/simulator/scenario.js";
import { migrationSeconds } from "../../../engine/simulator/migration.js";
import { ClusterModel } from "../../../engine/simulator/model.js";
import { fairShares, coreUse } from "../../../engine/hosts/drivers/cpu-share.js";
import { mulberry32 } from "../../../engine/rng.js";

/** One host, one VM, no overheads: every number is computable by hand. */
function tiny(overrides: Partial<Scenario["workload"]> = {}, dom0 = 0): Scenario {
  const base = thesisScenario();
  return {
    ...base,
    duration: 1000,
    hosts: [{ name: "h1", cpus: 2, cores: 2, htGain: 0, mem: 4096, dom0 }],
    vms: [{ name: "a", host: "h1", mem: 1024, vcpus: 1 }],
    workload: { busy: 1, work: 100, iterations: 1000, idleCpu: 0, startup: 0, startupDom0: 0, ...overrides },
  };
}

describe("simulator model accounting", () => {
  it("counts runs exactly on a hand-computable scenario", () => {
    // 1000 s at 100% of one CPU, 100 CPU-seconds per run: 10 runs (the first
    // run starts part-way, at a seeded point, so 9 or 10 complete).
    const r = simulateOnce(tiny(), null, 7);
    expect([9, 10]).toContain(r.runs);
    // One of two cores busy, the other idle.
    expect(r.vm_pct).toBeCloseTo(50, 6);
    expect(r.idle_pct).toBeCloseTo(50, 6);
    expect(r.dom0_pct).toBe(0);
  });

  it("a fresh model with the run starting at zero completes exactly duration × share / work runs", () => {
    const s = tiny({}, 0);
    const m = new ClusterModel(s, 1, false);
    m.bench[0]!.progress = 0;
    for (let i = 0; i < 1000; i++) m.step();
    expect(m.totals.runs).toBe(10);
    // With Dom0 taking 150% of a 2-CPU host, the VM gets 50%: 5 runs.
    const m2 = new ClusterModel(tiny({}, 150), 1, false);
    m2.bench[0]!.progress = 0;
    for (let i = 0; i < 1000; i++) m2.step();
    expect(m2.totals.runs).toBe(5);
    expect((100 * m2.totals.dom0) / m2.totals.capacity).toBeCloseTo(75, 6);
  });

  it("VM% + Dom0% + Idle% + engine% is 100 on the thesis testbed", () => {
    const r = simulateOnce(thesisScenario(), null, 3);
    expect(r.vm_pct + r.dom0_pct + r.idle_pct + r.engine_pct).toBeCloseTo(100, 6);
    expect(r.engine_pct).toBe(0);
  });

  it("hands over after `iterations` runs to another idle VM after the start-up delay", () => {
    const base = tiny({ iterations: 2, startup: 10 });
    const s: Scenario = { ...base, vms: [...base.vms, { name: "b", host: "h1", mem: 1024, vcpus: 1 }] };
    const m = new ClusterModel(s, 1, false, 1); // stratum 1: VM b starts idle
    expect(m.bench.map((b) => b.busy)).toEqual([true, false]);
    m.bench[0]!.progress = 0;
    m.bench[0]!.runsLeft = 2;
    for (let i = 0; i < 200; i++) m.step();
    expect(m.totals.runs).toBe(2);
    expect(m.bench.map((b) => b.busy)).toEqual([false, true]);
    // b starts computing 10 s after a stopped: 200 + 10.
    expect(m.bench[1]!.startAt).toBe(210);
    for (let i = 0; i < 210; i++) m.step();
    expect(m.totals.runs).toBe(4);
  });

  it("shares CPU max-min fairly and counts hyperthreads as partial cores", () => {
    expect(fairShares([10, 100, 100], 150)).toEqual([10, 70, 70]);
    expect(fairShares([50, 50], 400)).toEqual([50, 50]);
    // 4 cores, 5 busy threads, 15% HT gain: 4 cores + 0.15 of one.
    const u = coreUse(500, 4, 0.15);
    expect(u.workFactor * 500).toBeCloseTo(415, 9);
    expect(u.coreFactor * 500).toBeCloseTo(400, 9);
    expect(u.idle).toBe(0);
    expect(coreUse(300, 4, 0.15)).toEqual({ workFactor: 1, coreFactor: 1, idle: 100 });
  });

  it("the PRNG is seeded and reproducible", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe("simulator migration cost", () => {
  it("takes time proportional to memory plus the downtime", () => {
    const cost = thesisScenario().migration; // 80 MiB/s, ×1.2, 0.2 s
    expect(migrationSeconds(512, cost)).toBeCloseTo(512 * 1.2 / 80 + 0.2, 9);
    expect(migrationSeconds(1024, cost) - cost.downtime).toBeCloseTo(2 * (migrationSeconds(512, cost) - cost.downtime), 9);
  });

  it("runs in the model for mem × dirty / bandwidth seconds and charges Dom0 on both hosts", () => {
    const base = thesisScenario();
    const s: Scenario = {
      ...base,
      hosts: [
        { name: "h1", cpus: 4, cores: 4, htGain: 0, mem: 4096, dom0: 0 },
        { name: "h2", cpus: 4, cores: 4, htGain: 0, mem: 4096, dom0: 0 },
      ],
      vms: [{ name: "a", host: "h1", mem: 800, vcpus: 1 }],
      workload: { busy: 0, work: 100, iterations: 1, idleCpu: 0, startup: 0, startupDom0: 0 },
      migration: { ...base.migration, bandwidth: 100, dirtyFactor: 1, downtime: 0.5, dom0Source: 50, dom0Dest: 30 },
    };
    const m = new ClusterModel(s, 1, false);
    expect(m.startMigration(0, 1)).toBe(true);
    expect(m.startMigration(0, 1)).toBe(false); // already moving
    for (let i = 0; i < 7; i++) m.step();
    expect(m.hostOf[0]).toBe(0);
    m.step(); // 800 MiB at 100 MiB/s: done after the 8th second
    expect(m.hostOf[0]).toBe(1);
    expect(m.totals.migrations).toBe(1);
    expect(m.paused[0]).toBeCloseTo(0.5, 9);
    // Dom0: (50 + 30) %·s for 8 s.
    expect(m.totals.dom0).toBeCloseTo(8 * 80, 9);
  });

  it("counts a migration back to the host a VM left within 30 minutes as ping-pong", () => {
    const base = thesisScenario();
    const s: Scenario = {
      ...base,
      vms: [{ name: "a", host: "xen1", mem: 100, vcpus: 1 }],
      workload: { ...base.workload, busy: 0 },
      migration: { ...base.migration, bandwidth: 100, dirtyFactor: 1 },
    };
    const m = new ClusterModel(s, 1, false);
    const move = (to: number) => {
      expect(m.startMigration(0, to)).toBe(true);
      while (m.hostOf[0] !== to) m.step();
    };
    move(1);
    move(0); // back to xen1 a second later: ping-pong
    expect([m.totals.migrations, m.totals.pingpong]).toEqual([2, 1]);
    for (let i = 0; i < 1801; i++) m.step();
    move(1); // back to xen2, but it left xen2 more than 30 minutes ago
    expect([m.totals.migrations, m.totals.pingpong]).toEqual([3, 1]);
  });

  it("two migrations on one host share its link", () => {
    const base = thesisScenario();
    const s: Scenario = {
      ...base,
      vms: [
        { name: "a", host: "xen1", mem: 400, vcpus: 1 },
        { name: "b", host: "xen1", mem: 400, vcpus: 1 },
      ],
      workload: { ...base.workload, busy: 0 },
      migration: { ...base.migration, bandwidth: 100, dirtyFactor: 1 },
    };
    const m = new ClusterModel(s, 1, false);
    m.startMigration(0, 1);
    m.startMigration(1, 1);
    for (let i = 0; i < 7; i++) m.step();
    expect(m.totals.migrations).toBe(0);
    m.step();
    expect(m.totals.migrations).toBe(2);
  });
});
