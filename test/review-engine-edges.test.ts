/**
 * Edge cases of a running engine: one host, hosts without VMs, every host
 * down. Rounds complete without errors and plan only what is safe.
 */
import { describe, expect, it } from "vitest";
import { engineTestState, sleep, testConfig } from "./engine-harness.js";

const t = engineTestState();

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
