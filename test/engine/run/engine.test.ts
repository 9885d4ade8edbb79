import { describe, expect, it } from "vitest";
import { engineTestState, journalOf, loads, placement, testConfig, sleep, until } from "./harness.js";

const t = engineTestState();

// h1 is full (8 busy VMs × 50 = 100% of 4 CPUs), h2 and h3 at 25%: mean 50, CSLB band 40..60.
const IMBALANCED = [
  { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"] },
  { name: "h2", vms: ["b1", "b2"] },
  { name: "h3", vms: ["c1", "c2"] },
];

describe("engine: balancing through real agents", () => {
  it("balances an imbalanced three-host cluster to within the CSLB band and journals every migration", async () => {
    const cluster = await t.startCluster(IMBALANCED);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    const first = await engine.runRound();
    expect(first).toMatchObject({ executed: true, errors: 0 });
    expect(first.actions).toBeGreaterThan(0);
    expect(engine.lastPlan()!.groups.cslb).toEqual({ h1: "heavy", h2: "light", h3: "light" });
    expect(engine.lastPlan()!.actions[0]).toEqual({ kind: "migrate", vm: "a1", from: "h1", to: "h2", rule: "cslb.balance" });
    for (let i = 0; i < 10 && engine.lastPlan()!.actions.length > 0; i++) await engine.runRound();
    expect(engine.lastPlan()!.actions).toEqual([]);

    const l = await loads(cluster);
    const mean = (l.h1! + l.h2! + l.h3!) / 3;
    expect(mean).toBeCloseTo(50, 5);
    for (const h of ["h1", "h2", "h3"]) {
      expect(l[h]!).toBeGreaterThanOrEqual(mean - 10);
      expect(l[h]!).toBeLessThanOrEqual(mean + 10);
    }
    const p = await placement(cluster);
    expect(Object.values(p).flat().sort()).toEqual(["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "b1", "b2", "c1", "c2"]);

    // Every migration: a start line, a start line with the agent's id, an end line "completed".
    const journal = await journalOf(engine);
    const ids = [...new Set(journal.map((e) => e.id))];
    expect(ids.length).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      const ends = journal.filter((e) => e.id === id && e.phase === "end");
      expect(ends).toHaveLength(1);
      expect(ends[0]).toMatchObject({ kind: "migrate", outcome: "completed" });
      expect(journal.some((e) => e.id === id && e.phase === "start" && typeof e.agent_id === "string")).toBe(true);
    }
    const st = engine.status();
    expect(st.hosts.map((h) => [h.name, h.state, h.vm_count])).toEqual([
      ["h1", "up", p.h1!.length],
      ["h2", "up", p.h2!.length],
      ["h3", "up", p.h3!.length],
    ]);
    expect(st.last_round).toMatchObject({ actions: 0, executed: true });
    expect(st.policies.map((x) => x.name).sort()).toEqual(["cslb", "evacuate"]);
  });

  it("with no hosts configured it runs the embedded thesis testbed and migrates in its first round", async () => {
    const { engine: e, lines } = await t.startEngine(testConfig([], { interval: 10 }));
    expect(e.hosts.map((h) => h.name)).toEqual(["xen1", "xen2"]);
    expect(e.hosts.every((h) => /^http:\/\/127\.0\.0\.1:\d+$/.test(h.url))).toBe(true);
    const s = await e.runRound();
    expect(s).toMatchObject({ executed: true, errors: 0 });
    expect(e.lastPlan()!.actions[0]).toMatchObject({ kind: "migrate", from: "xen1", to: "xen2", rule: "cslb.balance" });
    expect(lines.some((l) => /^round 1: 1 migrate in \d+ ms \| xen1 100%, xen2 51%$/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /^migrate vm\d xen1 → xen2 completed after/.test(l.msg))).toBe(true);
    const st = e.status();
    expect(st.hosts.map((h) => h.vm_count)).toEqual([6, 3]); // the snapshot before the move
    await e.runRound();
    expect(e.status().hosts.map((h) => h.vm_count)).toEqual([5, 4]);
  });

  it("rounds never overlap: a second runRound waits for the first; the timer runs rounds on its own", async () => {
    const cluster = await t.startCluster(IMBALANCED, { vmMem: 256, migrationRate: 1024 }); // 0.25 s per migration
    let { engine } = await t.startEngine(testConfig(cluster.hosts, { interval: 1 }));
    const [a, b] = await Promise.all([engine.runRound(), engine.runRound()]);
    expect(Date.parse(b.at)).toBeGreaterThanOrEqual(Date.parse(a.at) + a.duration_ms);
    expect(a.duration_ms).toBeGreaterThanOrEqual(200); // it waited for its migration
    await engine.stop();
    const timed = await t.startEngine(testConfig(cluster.hosts, { interval: 0.2 }), { timer: true });
    engine = timed.engine;
    const rounds: number[] = [];
    engine.events.on("round", () => rounds.push(Date.now()));
    await new Promise((r) => setTimeout(r, 700));
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(timed.lines.some((l) => /^round 1: /.test(l.msg))).toBe(true);
  });

  it("a migration in flight shows how far it is, as its agent reports it (processed of total MiB)", async () => {
    const cluster = await t.startCluster(IMBALANCED, { vmMem: 256, migrationRate: 128 }); // 2 s per migration
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { interval: 5, max_per_round: 1 }));
    const round = engine.runRound();
    const seen: number[] = [];
    await until(() => {
      const p = engine.clusterView().flights[0]?.progress;
      if (p !== undefined) seen.push(p);
      return seen.some((x) => x > 0 && x < 1);
    }, 4000, "a progress between 0 and 1");
    await round;
    expect(seen.every((x) => x >= 0 && x <= 1)).toBe(true);
    expect(engine.clusterView().flights).toEqual([]);
  });

  it("dry run plans and executes nothing", async () => {
    const cluster = await t.startCluster(IMBALANCED);
    const before = await placement(cluster);
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { dry_run: true }));
    const s = await engine.runRound();
    expect(s).toMatchObject({ executed: false, actions: 1 });
    expect(engine.lastPlan()!.actions.map((a) => a.kind)).toEqual(["migrate"]);
    await engine.runRound();
    expect(await placement(cluster)).toEqual(before);
    expect(await journalOf(engine)).toEqual([]);
    expect(engine.status().dry_run).toBe(true);
  });

  it("pause stops execution, resume brings it back", async () => {
    const cluster = await t.startCluster(IMBALANCED);
    const before = await placement(cluster);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    engine.pause();
    expect(engine.status().paused).toBe(true);
    expect(await engine.runRound()).toMatchObject({ executed: false });
    expect(engine.lastPlan()!.actions.length).toBeGreaterThan(0);
    expect(await placement(cluster)).toEqual(before);
    expect(await journalOf(engine)).toEqual([]);
    engine.resume();
    expect(await engine.runRound()).toMatchObject({ executed: true });
    expect(await placement(cluster)).not.toEqual(before);
  });

  it("explains the last plan only when asked; unknown hosts are refused", async () => {
    const cluster = await t.startCluster(IMBALANCED);
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { dry_run: true }));
    expect(engine.lastPlan()).toBeNull();
    await engine.runRound();
    expect(engine.lastPlan()!.actions[0]!.explain).toBeUndefined();
    expect(engine.lastPlan({ explain: true })!.actions[0]!.explain?.binding).toEqual({ src: "h1" });
    expect(() => engine.setHostState("nope", "maintenance")).toThrow('unknown host "nope" (hosts: h1, h2, h3)');
    expect(() => engine.confirmFenced("h1")).toThrow(/host "h1" is not down/);
  });

  it("an operator's maintenance empties the host and survives what the agent reports", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2"] },
      { name: "h2", vms: ["b1"] },
      { name: "h3", vms: ["c1"] },
    ]);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    engine.setHostState("h1", "maintenance");
    await engine.runRound();
    expect(engine.status().hosts[0]).toMatchObject({ name: "h1", state: "maintenance", operator_state: "maintenance" });
    expect(engine.lastPlan()!.actions.map((a) => a.kind === "migrate" && `${a.vm}:${a.rule}`)).toEqual(["a1:evacuate.drain", "a2:evacuate.drain"]);
    expect((await placement(cluster)).h1).toEqual([]);
    engine.setHostState("h1", "up");
    await engine.runRound();
    expect(engine.status().hosts[0]).toMatchObject({ state: "up", operator_state: null });
  });
});


describe("engine: edge cases", () => {
  it("one host, and hosts with no VMs at all: nothing to do, no errors", async () => {
    let cluster = await t.startCluster([{ name: "solo", vms: ["v1", "v2"] }]);
    let { engine } = await t.startEngine(testConfig(cluster.hosts));
    expect(await engine.runRound()).toMatchObject({ actions: 0, errors: 0, executed: true });
    await engine.stop();
    await cluster.close();

    cluster = await t.startCluster([
      { name: "h1", vms: [] },
      { name: "h2", vms: [] },
    ]);
    ({ engine } = await t.startEngine(testConfig(cluster.hosts)));
    expect(await engine.runRound()).toMatchObject({ actions: 0, errors: 0, executed: true });
    expect(engine.status().hosts.map((h) => [h.name, h.state, h.vm_count, h.load])).toEqual([
      ["h1", "up", 0, 0],
      ["h2", "up", 0, 0],
    ]);
  });

  it("every host down and unfenced: alerts only, never a restart; fencing one still finds no up host to restart on", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1"] },
      { name: "h2", vms: ["b1"] },
    ]);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    for (const a of cluster.agents) await a.close();
    await sleep(700);
    const s = await engine.runRound();
    expect(s).toMatchObject({ errors: 0 });
    expect(engine.status().hosts.map((h) => h.state)).toEqual(["down", "down"]);
    expect(engine.lastPlan()!.actions.every((a) => a.kind === "alert")).toBe(true);
    engine.confirmFenced("h1");
    await engine.runRound();
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "restart")).toEqual([]);
  });
});
