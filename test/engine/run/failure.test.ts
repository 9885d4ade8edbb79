import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgent } from "../../../engine/hosts/agent/server.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";
import type { Engine } from "../../../engine/run/engine.js";
import { engineTestState, journalOf, placement, sleep, startProxy, testConfig } from "./harness.js";

const cleanups: (() => Promise<void>)[] = [];
const t = engineTestState(async () => {
  for (const c of cleanups.splice(0)) await c();
});

// Balanced enough that CSLB plans nothing: only the failure rules act.
const SPECS = [
  { name: "h1", vms: ["a1", "a2"] },
  { name: "h2", vms: ["b1", "b2"] },
  { name: "h3", vms: ["c1", "c2"] },
];

const kinds = (e: Engine) => e.lastPlan()!.actions.map((a) => (a.kind === "alert" ? `alert:${a.rule}` : `${a.kind}:${a.vm}:${a.from}->${a.to}`));

describe("engine: lost hosts and fencing", () => {
  it("a dead agent makes its host down after down_after; no restart until fenced; then its VMs restart elsewhere exactly once", async () => {
    const cluster = await t.startCluster(SPECS);
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    expect(engine.status().hosts.map((h) => h.state)).toEqual(["up", "up", "up"]);

    await cluster.agents[2]!.close(); // h3's agent dies
    await engine.runRound();
    expect(engine.status().hosts[2]!.state).toBe("up"); // silent, but not yet for down_after
    await sleep(700);
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "down", fenced: false, vm_count: 2 });
    expect(kinds(engine)).toEqual(["alert:evacuate.recover"]);
    await engine.runRound();
    expect(kinds(engine)).toEqual(["alert:evacuate.recover"]);
    expect((await journalOf(engine)).map((e) => `${e.kind}:${e.phase}`)).toEqual(["alert:start"]); // journaled once, not every round
    expect(lines.some((l) => l.msg.startsWith("host h3 is down: no answer for"))).toBe(true);

    engine.confirmFenced("h3");
    expect(engine.status().hosts[2]!.fenced).toBe(true);
    await engine.runRound();
    const restarts = engine.lastPlan()!.actions.filter((a) => a.kind === "restart");
    expect(restarts.map((a) => a.kind === "restart" && `${a.vm}:${a.from}`)).toEqual(["c1:h3", "c2:h3"]);
    const p = await placement(cluster);
    expect([...p.h1!, ...p.h2!].sort()).toEqual(["a1", "a2", "b1", "b2", "c1", "c2"]);

    for (let i = 0; i < 3; i++) await engine.runRound();
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "restart")).toEqual([]);
    expect(engine.status().hosts[2]).toMatchObject({ state: "down", vm_count: 0, fenced: true });
    const restartLines = (await journalOf(engine)).filter((e) => e.kind === "restart");
    expect(restartLines.filter((e) => e.phase === "end").map((e) => `${e.vm}:${e.outcome}`).sort()).toEqual(["c1:completed", "c2:completed"]);
    expect(new Set(restartLines.map((e) => e.id)).size).toBe(2);
  });

  it("a VM that just moved onto a host that dies before reporting it is restarted with the host's others", async () => {
    const cluster = await t.startCluster(SPECS);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    // h1 drains: evacuate moves a1 and a2 (the least loaded host takes each in turn).
    engine.setHostState("h1", "maintenance");
    await engine.runRound();
    const moved = engine.lastPlan()!.actions.filter((a) => a.kind === "migrate");
    expect(moved.map((a) => a.kind === "migrate" && `${a.vm}:${a.to}`)).toEqual(["a1:h2", "a2:h3"]);
    expect((await journalOf(engine)).filter((e) => e.phase === "end").map((e) => `${e.vm}:${e.outcome}`)).toEqual(["a1:completed", "a2:completed"]);
    // h3 dies before the engine has seen a2 in its facts.
    await cluster.agents[2]!.close();
    await sleep(700);
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "down", vm_count: 3 });
    engine.confirmFenced("h3");
    // h1 is in maintenance: h2 takes the restarts, two a round (max_per_host).
    for (let i = 0; i < 3; i++) await engine.runRound();
    const restarted = (await journalOf(engine)).filter((e) => e.kind === "restart" && e.phase === "end");
    expect(restarted.map((e) => `${e.vm}:${e.from}:${e.outcome}`).sort()).toEqual(["a2:h3:completed", "c1:h3:completed", "c2:h3:completed"]);
    expect((await placement(cluster)).h2!.sort()).toEqual(["a1", "a2", "b1", "b2", "c1", "c2"]);
  });

  it("an alert that first shows while paused is journaled once execution resumes, and only once", async () => {
    const cluster = await t.startCluster(SPECS);
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    engine.pause();
    await cluster.agents[2]!.close();
    await sleep(700);
    await engine.runRound();
    expect(kinds(engine)).toEqual(["alert:evacuate.recover"]);
    expect(await journalOf(engine)).toEqual([]); // paused: planned and logged, not executed
    engine.resume();
    await engine.runRound();
    await engine.runRound();
    expect((await journalOf(engine)).map((e) => `${e.kind}:${e.phase}:${e.rule}`)).toEqual(["alert:start:evacuate.recover"]);
  });

  it("a host that is only slow (answers again after down_after, never fenced) never gets its VMs started twice", async () => {
    const cluster = await t.startCluster(SPECS);
    const proxy = await startProxy(cluster.hosts[2]!.url);
    cleanups.push(proxy.close);
    const hosts = [cluster.hosts[0]!, cluster.hosts[1]!, { name: "h3", url: proxy.url }];
    // The fence command always fails: the host is never fenced.
    const { engine } = await t.startEngine(testConfig(hosts, { fence: ["false"] }), { fenceRetryMs: 50 });
    await engine.runRound();
    proxy.freeze();
    await sleep(700);
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ state: "down", fenced: false });
    expect(kinds(engine)).toEqual(["alert:evacuate.recover"]);
    await sleep(200);
    await engine.runRound();
    expect(kinds(engine)).toEqual(["alert:evacuate.recover"]);

    proxy.thaw();
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ state: "up", fenced: false, vm_count: 2 });
    expect(kinds(engine)).toEqual([]);
    await engine.runRound();
    expect(await placement(cluster)).toEqual({ h1: ["a1", "a2"], h2: ["b1", "b2"], h3: ["c1", "c2"] });
    expect((await journalOf(engine)).filter((e) => e.kind === "restart")).toEqual([]);
  });

  it("a fenced host that comes back is up and unfenced; VMs already restarted elsewhere are neither counted there nor restarted again", async () => {
    const cluster = await t.startCluster(SPECS);
    const proxy = await startProxy(cluster.hosts[2]!.url);
    cleanups.push(proxy.close);
    const hosts = [cluster.hosts[0]!, cluster.hosts[1]!, { name: "h3", url: proxy.url }];
    const { engine, lines } = await t.startEngine(testConfig(hosts));
    await engine.runRound();
    await cluster.agents[2]!.close();
    await sleep(700);
    await engine.runRound();
    engine.confirmFenced("h3");
    await engine.runRound();
    expect(kinds(engine)).toEqual(["restart:c1:h3->h1", "restart:c2:h3->h2"]);

    // The "fenced" host was not really off: it comes back still running c1 and c2.
    const again = new SimDriver({ name: "h3", cpus: 4, mem: 65536, vms: [{ name: "c1", mem: 256 }, { name: "c2", mem: 256 }], workload: cluster.workload });
    const agent = await startAgent({ name: "h3", driver: again, listen: "127.0.0.1:0" });
    cleanups.push(agent.close);
    proxy.retarget(agent.url);
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "up", fenced: false, vm_count: 0 });
    expect(lines.some((l) => l.msg === "host h3 reports VMs that were restarted elsewhere while it was fenced: c1, c2; ignoring them here")).toBe(true);
    expect(engine.status().last_round).toMatchObject({ errors: 0 });
    for (let i = 0; i < 2; i++) await engine.runRound();
    const restarts = (await journalOf(engine)).filter((e) => e.kind === "restart" && e.phase === "end");
    expect(restarts.map((e) => `${e.vm}:${e.outcome}`)).toEqual(["c1:completed", "c2:completed"]);
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "restart")).toEqual([]);
  });

  it("an agent's bad VM facts are logged with the host and path; that VM keeps its last good facts, pinned, with an alert", async () => {
    const cluster = await t.startCluster(SPECS);
    const proxy = await startProxy(cluster.hosts[2]!.url);
    cleanups.push(proxy.close);
    const hosts = [cluster.hosts[0]!, cluster.hosts[1]!, { name: "h3", url: proxy.url }];
    const { engine, lines } = await t.startEngine(testConfig(hosts));
    await engine.runRound();
    proxy.rewrite((path, body) => (path === "/facts" ? body.replace(/"cpu":[0-9.]+/, '"cpu":-5') : body));
    await sleep(700); // past down_after: a host that answers badly is still alive
    await engine.runRound();
    await engine.runRound();
    expect(lines.filter((l) => l.msg.startsWith("host h3: VMs with wrong facts")).map((l) => l.msg)).toEqual([
      "host h3: VMs with wrong facts left out of planning (c1: cpu: must be a finite number ≥ 0)",
    ]);
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "up", vm_count: 2 });
    expect(engine.status().last_round).toMatchObject({ errors: 0 });
    expect(engine.lastPlan()!.actions).toEqual([
      { kind: "alert", rule: "engine.facts", message: "VM c1 on host h3 has wrong facts (cpu: must be a finite number ≥ 0); it stays where it is, pinned, with its last good facts" },
    ]);
    proxy.rewrite(null);
    await engine.runRound();
    expect(lines.some((l) => l.msg === "host h3: every VM's facts are accepted again")).toBe(true);
    expect(engine.lastPlan()!.actions).toEqual([]);
  });

  it("a fence command that succeeds fences the host on its own and the restart goes ahead", async () => {
    const cluster = await t.startCluster(SPECS);
    const out = join(mkdtempSync(join(tmpdir(), "vmpolicy-fenced-")), "fenced");
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { fence: ["sh", "-c", `echo "$0" >> ${out}`, "{host}"] }));
    await engine.runRound();
    await cluster.agents[2]!.close();
    await sleep(700);
    await engine.runRound(); // down: the fence command starts now
    await sleep(300);
    expect(readFileSync(out, "utf8")).toBe("h3\n");
    expect(engine.status().hosts[2]!.fenced).toBe(true);
    await engine.runRound();
    expect(kinds(engine)).toEqual(["restart:c1:h3->h1", "restart:c2:h3->h2"]);
    await engine.runRound();
    expect(readFileSync(out, "utf8")).toBe("h3\n"); // fenced once, not every round
    const p = await placement(cluster);
    expect([...p.h1!, ...p.h2!].sort()).toEqual(["a1", "a2", "b1", "b2", "c1", "c2"]);
  });
});
