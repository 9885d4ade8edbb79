import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { statePathFor } from "../../../engine/run/state.js";
import { engineTestState, journalOf, placement, sleep, testConfig } from "./harness.js";

const t = engineTestState();

// Balanced enough that CSLB plans nothing: only the failure rules act.
const SPECS = [
  { name: "h1", vms: ["a1", "a2"] },
  { name: "h2", vms: ["b1", "b2"] },
  { name: "h3", vms: ["c1", "c2"] },
];

const restarts = (entries: { kind: string; phase: string; vm?: string; outcome?: string }[]) =>
  entries.filter((e) => e.kind === "restart" && e.phase === "end").map((e) => `${e.vm}:${e.outcome}`).sort();

describe("engine: what a restart must not forget (the state file beside the journal)", () => {
  it("after a fence, a restarted engine still knows the down host's VMs, still counts it fenced, and restarts them exactly once", async () => {
    const cluster = await t.startCluster(SPECS);
    const config = testConfig(cluster.hosts);
    let { engine } = await t.startEngine(config);
    await engine.runRound();
    engine.setHostState("h1", "maintenance");
    engine.pause(); // plan, execute nothing: the restarts are left to the next engine
    await cluster.agents[2]!.close(); // h3 dies
    await sleep(700);
    await engine.runRound();
    engine.confirmFenced("h3");
    expect(engine.status().vms_nowhere).toEqual([
      { vm: "c1", host: "h3", reason: "host h3 is down and fenced: waiting to be restarted elsewhere" },
      { vm: "c2", host: "h3", reason: "host h3 is down and fenced: waiting to be restarted elsewhere" },
    ]);
    await engine.stop();

    const kept = JSON.parse(readFileSync(statePathFor(config.journal), "utf8")) as { hosts: Record<string, { down: boolean; fenced: boolean; operator_state: string | null }> };
    expect(kept.hosts["h3"]).toMatchObject({ down: true, fenced: true, operator_state: null });
    expect(kept.hosts["h1"]).toMatchObject({ down: false, fenced: false, operator_state: "maintenance" });

    // A new engine on the same journal: h3 never answers again, yet it is down (not "never seen"), fenced, with c1 and c2.
    ({ engine } = await t.startEngine(config));
    expect(engine.status().hosts.map((h) => [h.name, h.state, h.fenced, h.vm_count, h.operator_state])).toEqual([
      ["h1", "maintenance", false, 2, "maintenance"],
      ["h2", "up", false, 2, null],
      ["h3", "down", true, 2, null],
    ]);
    expect(engine.status().vms_nowhere?.map((v) => v.vm)).toEqual(["c1", "c2"]);
    await engine.runRound();
    // h1 is still in maintenance (it is emptied too); h3's VMs restart on the one host left, two a round.
    const planned = engine.lastPlan()!.actions.filter((a) => a.kind === "restart");
    expect(planned.map((a) => a.kind === "restart" && `${a.vm}:${a.from}->${a.to}`)).toEqual(["c1:h3->h2", "c2:h3->h2"]);
    for (let i = 0; i < 3; i++) await engine.runRound();
    expect(restarts(await journalOf(engine))).toEqual(["c1:completed", "c2:completed"]);
    expect(engine.status().vms_nowhere).toEqual([]);
    await engine.stop();

    // And once more: nothing is restarted a second time.
    ({ engine } = await t.startEngine(config));
    for (let i = 0; i < 2; i++) await engine.runRound();
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "restart")).toEqual([]);
    expect(restarts(await journalOf(engine))).toEqual(["c1:completed", "c2:completed"]);
    const p = await placement(cluster);
    // h3's driver still holds its old copies (its agent is gone, as if powered off); the live hosts run one each.
    expect([...p.h1!, ...p.h2!].filter((v) => v.startsWith("c")).sort()).toEqual(["c1", "c2"]);
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "down", fenced: true, vm_count: 0 });
  });

  it("a down host that was not fenced is still down and still needs the fence after a restart (an alert, no restart)", async () => {
    const cluster = await t.startCluster(SPECS);
    const config = testConfig(cluster.hosts);
    let { engine } = await t.startEngine(config);
    await engine.runRound();
    await cluster.agents[2]!.close();
    await sleep(700);
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ state: "down", fenced: false });
    await engine.stop();

    ({ engine } = await t.startEngine(config));
    await engine.runRound();
    expect(engine.status().hosts[2]).toMatchObject({ name: "h3", state: "down", fenced: false, vm_count: 2 });
    expect(engine.lastPlan()!.actions.map((a) => `${a.kind}:${a.rule}`)).toEqual(["alert:evacuate.recover"]);
    engine.confirmFenced("h3");
    await engine.runRound();
    expect(engine.lastPlan()!.actions.filter((a) => a.kind === "restart").map((a) => a.kind === "restart" && a.vm)).toEqual(["c1", "c2"]);
  });

  it("a state file that cannot be used is reported and the engine starts as if fresh", async () => {
    const cluster = await t.startCluster(SPECS.slice(0, 2));
    const config = testConfig(cluster.hosts);
    writeFileSync(statePathFor(config.journal), "{ not json");
    const { engine, lines } = await t.startEngine(config);
    expect(lines.some((l) => l.msg.startsWith(`state file: ${statePathFor(config.journal)}: not JSON:`))).toBe(true);
    await engine.runRound();
    expect(engine.status().hosts.map((h) => h.state)).toEqual(["up", "up"]);
    // …and it is written afresh.
    await engine.stop();
    expect(JSON.parse(readFileSync(statePathFor(config.journal), "utf8"))).toMatchObject({ version: 1, hosts: { h1: { down: false }, h2: { down: false } } });
  });
});
