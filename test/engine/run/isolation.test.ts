import { describe, expect, it } from "vitest";
import { EngineMetrics } from "../../../engine/http/metrics.js";
import { loadPolicySet } from "../../../engine/policy/set.js";
import { planSnapshot } from "../../../engine/run/round.js";
import { DEFAULT_PLAN_SETTINGS } from "../../../engine/types.js";
import { engineTestState, journalOf, placement, startProxy, testConfig } from "./harness.js";

const cleanups: (() => Promise<void>)[] = [];
const t = engineTestState(async () => {
  for (const c of cleanups.splice(0)) await c();
});

// h1 is full (8 busy VMs × 50 = 100% of 4 CPUs): CSLB moves VMs off it. d1 runs on h1 and h2 at once:
// started without shared storage (a misconfigured cluster), since its record would keep the second agent from starting it.
const TWICE = [
  { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "d1*"] },
  { name: "h2", vms: ["b1", "d1*"] },
  { name: "h3", vms: ["c1"] },
];
const DUPLICATE_ALERT = "VM d1 is reported by two hosts: h1 and h2; it is left out of planning (no copy is moved or restarted) until only one host reports it";

describe("engine: a fault in gathered facts costs only the faulty part", () => {
  it("a VM that two agents report is left out, alerted once while it lasts; the rest of the cluster is planned", async () => {
    const cluster = await t.startCluster(TWICE, { sharedStorage: false });
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts));
    const first = await engine.runRound();
    expect(first).toMatchObject({ errors: 0, executed: true });
    const plan = engine.lastPlan()!;
    const migrations = plan.actions.filter((a) => a.kind === "migrate");
    expect(migrations.length).toBeGreaterThan(0);
    expect(migrations.every((a) => a.kind === "migrate" && a.from === "h1" && a.vm !== "d1")).toBe(true);
    expect(plan.actions.filter((a) => a.kind === "alert")).toEqual([{ kind: "alert", message: DUPLICATE_ALERT, rule: "engine.duplicate" }]);
    expect(engine.status().duplicate_vms).toEqual([{ vm: "d1", hosts: ["h1", "h2"] }]);
    expect(await new EngineMetrics({ status: () => engine.status() }).text()).toMatch(/^vmpolicy_duplicate_vms 1$/m);
    // Both hosts stay in the round, with their other VMs.
    expect(plan.groups["cslb"]).toEqual({ h1: "heavy", h2: "light", h3: "light" });

    for (let i = 0; i < 3; i++) await engine.runRound();
    const alerts = (await journalOf(engine)).filter((e) => e.kind === "alert");
    expect(alerts.map((e) => `${e.rule}: ${e.message}`)).toEqual([`engine.duplicate: ${DUPLICATE_ALERT}`]);
    expect(lines.filter((l) => l.msg.includes("VM d1 is reported by two hosts"))).toHaveLength(1);
    expect(lines.some((l) => l.msg.includes("failed validation"))).toBe(false);
    // Neither copy moved.
    const p = await placement(cluster);
    expect(p.h1).toContain("d1");
    expect(p.h2).toContain("d1");
    expect((await journalOf(engine)).some((e) => e.vm === "d1")).toBe(false);
  });

  it("once one host stops reporting it, the VM is planned again and the alert is gone", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2"] },
      { name: "h2", vms: ["b1"] },
    ]);
    const proxy = await startProxy(cluster.hosts[1]!.url);
    cleanups.push(proxy.close);
    // h2's agent also claims a1 (a second QEMU of it, say).
    proxy.rewrite((path, body) => (path === "/facts" ? body.replace('"vms":[', '"vms":[{"name":"a1","cpu":40,"mem":256},') : body));
    const { engine } = await t.startEngine(testConfig([cluster.hosts[0]!, { name: "h2", url: proxy.url }]));
    await engine.runRound();
    expect(engine.status().duplicate_vms).toEqual([{ vm: "a1", hosts: ["h1", "h2"] }]);
    expect(engine.status().hosts.map((h) => [h.name, h.vm_count])).toEqual([
      ["h1", 1],
      ["h2", 1],
    ]);
    proxy.rewrite(null);
    await engine.runRound();
    expect(engine.status().duplicate_vms).toEqual([]);
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "alert")).toEqual([]);
    expect(engine.status().hosts.map((h) => [h.name, h.vm_count])).toEqual([
      ["h1", 2],
      ["h2", 1],
    ]);
  });

  it("a VM with a wrong field keeps its last good facts, pinned; the host's other VMs are fresh", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2"] },
      { name: "h2", vms: ["b1"] },
    ]);
    const proxy = await startProxy(cluster.hosts[0]!.url);
    cleanups.push(proxy.close);
    const { engine, lines } = await t.startEngine(testConfig([{ name: "h1", url: proxy.url }, cluster.hosts[1]!]));
    await engine.runRound();
    proxy.rewrite((path, body) => (path === "/facts" ? body.replace(/"cpu":[0-9.]+/, '"cpu":1e308') : body));
    await engine.runRound();
    await engine.runRound();
    const alert = "VM a1 on host h1 has wrong facts (cpu: must be at most 1638400 (percent of one CPU: 16384 CPUs fully busy)); it stays where it is, pinned, with its last good facts";
    expect(engine.lastPlan()!.actions).toEqual([{ kind: "alert", message: alert, rule: "engine.facts" }]);
    expect((await journalOf(engine)).filter((e) => e.kind === "alert").map((e) => e.message)).toEqual([alert]);
    expect(engine.status().hosts[0]).toMatchObject({ name: "h1", state: "up", vm_count: 2 });
    expect(lines.filter((l) => l.msg.startsWith("host h1: VMs with wrong facts")).map((l) => l.msg)).toEqual([
      "host h1: VMs with wrong facts left out of planning (a1: cpu: must be at most 1638400 (percent of one CPU: 16384 CPUs fully busy))",
    ]);
  });

  it("a part the tracker did not isolate is dropped at validation, with an alert, and the rest is planned", async () => {
    const loaded = await loadPolicySet([{ file: "evacuate.policy", text: "policy evacuate\nrule drain for each host where host.state == maintenance then evacuate host\n" }]);
    const raw = {
      hosts: [
        { name: "h1", state: "maintenance", cpus: 4, mem: 4096, vms: [{ name: "a1", cpu: 10, mem: 256 }, { name: "x", cpu: -1, mem: 256 }] },
        { name: "h2", state: "up", cpus: 4, mem: 4096, vms: [{ name: "a1", cpu: 10, mem: 256 }] },
        { name: "h3", state: "up", cpus: 4, mem: 4096, vms: [{ name: "c1", cpu: 10, mem: 256 }] },
      ],
      migrating: [{ vm: "x", from: "h1", to: "h3" }],
    };
    const out = planSnapshot(loaded.set!, raw, DEFAULT_PLAN_SETTINGS);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.facts.hosts.map((h) => [h.name, h.vms.map((v) => v.name)])).toEqual([
      ["h1", []],
      ["h2", []],
      ["h3", ["c1"]],
    ]);
    expect(out.facts.migrating).toEqual([]);
    expect(out.plan.actions).toEqual([
      { kind: "alert", rule: "engine.facts", message: "VM x is left out of planning: hosts[0].vms[1].cpu: must be a finite number ≥ 0" },
      { kind: "alert", rule: "engine.facts", message: 'VM a1 is left out of planning: hosts[1].vms[0].name: VM "a1" is on two hosts: h1 (hosts[0].vms[0]) and h2 (hosts[1].vms[0])' },
    ]);
    loaded.set!.dispose();
  });
});
