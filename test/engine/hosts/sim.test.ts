import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DriverError } from "../../../engine/hosts/drivers/contract.js";
import { ManualClock } from "../../../engine/hosts/drivers/sim/clock.js";
import { loadSimConfig, parseVmsFlag } from "../../../engine/hosts/drivers/sim/config.js";
import { SimWorkload, fairShare } from "../../../engine/hosts/drivers/sim/workload.js";
import { mulberry32 as seededRandom } from "../../../engine/rng.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";
import { SimStorage } from "../../../engine/hosts/drivers/sim-storage.js";

function writeTemp(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "vmpolicy-sim-dom0-")), "host.yaml");
  writeFileSync(file, text);
  return file;
}

const cpuOf = async (d: SimDriver) => Object.fromEntries((await d.facts()).vms.map((v) => [v.name, v.cpu]));

describe("fairShare", () => {
  it("gives everyone what it wants when the host has room", () => {
    expect(fairShare(400, [100, 100, 3])).toEqual([100, 100, 3]);
  });
  it("meets small demands in full and splits the rest equally when overcommitted", () => {
    const got = fairShare(200, [100, 100, 100, 3]);
    expect(got[3]).toBe(3);
    for (const g of got.slice(0, 3)) expect(g).toBeCloseTo(197 / 3, 9);
    expect(fairShare(100, [200, 10, 100])).toEqual([45, 10, 45]);
    expect(fairShare(0, [5])).toEqual([0]);
  });
});

describe("SimWorkload", () => {
  it("is deterministic for a seed and keeps the number of busy VMs", () => {
    const run = (seed: number) => {
      const clock = new ManualClock();
      const w = new SimWorkload({ clock, seed, period: 10 });
      for (const [i, n] of ["a", "b", "c", "d", "e"].entries()) w.add(n, i < 3, "h1");
      const trace: string[] = [];
      for (let t = 0; t < 6; t++) {
        clock.advance(10_000);
        trace.push(["a", "b", "c", "d", "e"].filter((n) => w.isBusy(n)).join(""));
      }
      return { trace, switches: w.switches };
    };
    const one = run(7);
    expect(run(7)).toEqual(one);
    expect(one.switches).toBe(6);
    for (const busy of one.trace) expect(busy).toHaveLength(3);
    expect(new Set(one.trace).size).toBeGreaterThan(1);
    expect(run(8).trace).not.toEqual(one.trace);
  });

  it("catches up on every period that elapsed between reads", () => {
    const clock = new ManualClock();
    const w = new SimWorkload({ clock, period: 5 });
    w.add("a", true, "h1");
    w.add("b", false, "h1");
    clock.advance(4999);
    expect(w.isBusy("a")).toBe(true);
    clock.advance(1);
    // Two VMs, one busy: each switch swaps them.
    expect([w.isBusy("a"), w.isBusy("b")]).toEqual([false, true]);
    clock.advance(10_000);
    expect(w.switches).toBe(3); // swapped three times in all: b is busy again
    expect([w.isBusy("a"), w.isBusy("b")]).toEqual([false, true]);
  });

  it("with period 0 never switches", () => {
    const clock = new ManualClock();
    const w = new SimWorkload({ clock, period: 0 });
    w.add("a", true, "h1");
    w.add("b", false, "h1");
    clock.advance(1e9);
    expect([w.isBusy("a"), w.isBusy("b"), w.switches]).toEqual([true, false, 0]);
  });

  it("seededRandom gives the same stream for the same seed", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe("SimDriver", () => {
  it("reports what VMs get, not what they want, and follows the workload over time", async () => {
    const clock = new ManualClock();
    const d = new SimDriver({
      name: "h1",
      cpus: 2,
      mem: 8192,
      clock,
      period: 30,
      seed: 3,
      vms: [{ name: "a", mem: 512 }, { name: "b", mem: 512 }, { name: "c", mem: 512 }, { name: "big", mem: 512, vcpus: 2, busy: false }],
    });
    // Demands 100, 100, 100 and 3 on 200: the idle VM gets its 3, the busy ones split 197.
    expect(await cpuOf(d)).toEqual({ a: 65.7, b: 65.7, c: 65.7, big: 3 });
    clock.advance(30_000);
    const after = await cpuOf(d);
    expect(Object.values(after).filter((c) => c === 3)).toHaveLength(1);
    expect(after.big === 3).toBe(false); // one switch happened: the idle VM is busy now (it was the only idle one)
    // big wants 200 now: max-min fair share of 200 among {200, 100, 100, 3}.
    expect(Object.values(after).reduce((x, y) => x + y, 0)).toBeCloseTo(200, 0);
  });

  it("shares one workload between in-process hosts (cluster-wide switching)", async () => {
    const clock = new ManualClock();
    const workload = new SimWorkload({ clock, period: 10, seed: 1 });
    const h1 = new SimDriver({ name: "h1", cpus: 4, mem: 4096, clock, workload, vms: [{ name: "a", mem: 1 }, { name: "b", mem: 1 }] });
    const h2 = new SimDriver({ name: "h2", cpus: 4, mem: 4096, clock, workload, vms: [{ name: "c", mem: 1, busy: false }] });
    clock.advance(10_000);
    const cpus = { ...(await cpuOf(h1)), ...(await cpuOf(h2)) };
    expect(cpus.c).toBe(100); // the only idle VM, on the other host, became busy
    expect(Object.values(cpus).sort()).toEqual([100, 100, 3]);
  });

  it("a modelled Dom0 is served first and reported as other_cpu (none without one)", async () => {
    const vms = [{ name: "a", mem: 1, vcpus: 2 }, { name: "b", mem: 1 }];
    const busy = new SimDriver({ name: "h1", cpus: 2, mem: 4096, clock: new ManualClock(), busyDemand: 100, dom0: 50, vms });
    const facts = await busy.facts();
    // 200 − 50 for Dom0 = 150 shared by demands 200 and 100: b gets 75, a 75.
    expect([facts.other_cpu, facts.vms.map((v) => v.cpu)]).toEqual([50, [75, 75]]);
    expect((await new SimDriver({ name: "h2", cpus: 2, mem: 4096, clock: new ManualClock(), vms }).facts()).other_cpu).toBeUndefined();
    expect(loadSimConfig(writeTemp("dom0: -1\n"))).toEqual({ ok: false, message: expect.stringMatching(/dom0: must be a number ≥ 0 \(got -1\)$/) });
  });

  it("refuses restarts without storage and incoming VMs it cannot hold", async () => {
    const d = new SimDriver({ name: "h1", cpus: 1, mem: 1000, vms: [{ name: "a", mem: 600 }], clock: new ManualClock() });
    await expect(d.restart("x", "h2")).rejects.toThrow(new DriverError(409, "host h1 has no shared storage (start its agent with --storage DIR)"));
    const def = { name: "b", mem: 500, vcpus: 1, labels: {}, pinned: false, host: "h2" };
    await expect(d.acceptIncoming(def, "h2")).rejects.toThrow("not enough memory on h1 for b: needs 500 MiB, has 400 MiB free");
    await expect(d.acceptIncoming({ ...def, name: "a", mem: 1 }, "h2")).rejects.toThrow("VM a already runs on h1");
    d.setState("maintenance");
    await expect(d.acceptIncoming({ ...def, mem: 1 }, "h2")).rejects.toThrow("host h1 is maintenance and takes no VMs");
  });

  it("takes an incoming VM only when its shared-storage record names the source, this host or nobody", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-sim-"));
    try {
      const storage = new SimStorage(dir);
      const def = { name: "g1", mem: 1, vcpus: 1, labels: {}, pinned: false, host: "h3" };
      storage.write(def);
      const d = new SimDriver({ name: "h2", cpus: 1, mem: 1000, storage: dir, clock: new ManualClock() });
      // g1 runs on h3 by the record: h1 cannot hand it over (a stale copy), and nothing changes.
      await expect(d.acceptIncoming({ ...def, host: "h1" }, "h1")).rejects.toThrow(new DriverError(409, "shared storage names h3 as the host of g1 (generation 1)"));
      expect(d.vmNames()).toEqual([]);
      expect(storage.read("g1")).toMatchObject({ host: "h3", generation: 1 });
      await d.acceptIncoming({ ...def, host: "h3" }, "h3");
      expect(d.vmNames()).toEqual(["g1"]);
      expect(storage.read("g1")).toMatchObject({ host: "h2", generation: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a host whose initial VMs do not fit its memory", () => {
    expect(() => new SimDriver({ name: "h1", cpus: 1, mem: 1000, vms: [{ name: "a", mem: 600 }, { name: "b", mem: 600 }] })).toThrow("the VMs of h1 need 1200 MiB but the host has 1000 MiB");
  });

  it("reports a damaged storage file by its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-sim-"));
    try {
      writeFileSync(join(dir, "x.json"), '{"name":"x","mem":-1}');
      const d = new SimDriver({ name: "h1", cpus: 1, mem: 1000, storage: dir, clock: new ManualClock() });
      await expect(d.restart("x", "h2")).rejects.toThrow(`${join(dir, "x.json")}: mem must be a number ≥ 0`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sim host configuration", () => {
  it("parses --vms items and counts", () => {
    expect(parseVmsFlag("web1:1024,db:4096:2:idle,2x512", "h1")).toEqual({
      ok: true,
      value: [
        { name: "web1", mem: 1024, vcpus: 1, busy: true },
        { name: "db", mem: 4096, vcpus: 2, busy: false },
        { name: "h1-3", mem: 512, vcpus: 1, busy: true },
        { name: "h1-4", mem: 512, vcpus: 1, busy: true },
      ],
    });
    expect(parseVmsFlag("a:1,a:2", "h1")).toEqual({ ok: false, message: "--vms: VM a is listed twice" });
    expect(parseVmsFlag("a:1:fast", "h1")).toEqual({ ok: false, message: '--vms: "a:1:fast": "fast" is neither a vCPU count ≥ 1 nor busy/idle' });
  });

  it("reads a host file and names the bad key", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-simcfg-"));
    try {
      const good = join(dir, "h.yaml");
      writeFileSync(good, "name: h7\ncpus: 8\nmem: 32768\nlabels: { rack: r2 }\nvms:\n  - { name: w1, mem: 2048, labels: { tier: web } }\n  - { name: d1, mem: 8192, vcpus: 2, pinned: true, busy: false }\n");
      expect(loadSimConfig(good)).toEqual({
        ok: true,
        value: {
          name: "h7",
          cpus: 8,
          mem: 32768,
          labels: { rack: "r2" },
          vms: [
            { name: "w1", mem: 2048, vcpus: 1, labels: { tier: "web" }, pinned: false, busy: true },
            { name: "d1", mem: 8192, vcpus: 2, labels: {}, pinned: true, busy: false },
          ],
        },
      });
      const badKey = join(dir, "b.yaml");
      writeFileSync(badKey, "name: h7\ncpu: 8\n");
      expect(loadSimConfig(badKey)).toEqual({ ok: false, message: `${badKey}: unknown key "cpu" (known: name, cpus, mem, labels, state, vms, seed, period, migration_rate, busy_demand, idle_demand, dom0, storage)` });
      const badVm = join(dir, "v.yaml");
      writeFileSync(badVm, "vms:\n  - { name: w1, mem: lots }\n");
      expect(loadSimConfig(badVm)).toEqual({ ok: false, message: `${badVm}: vms[0].mem: must be a number ≥ 0 (got "lots")` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
