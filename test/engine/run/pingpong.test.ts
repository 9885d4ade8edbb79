/**
 * Ping-pong caught live (SPEC 12): real sim agents, the default CSLB and no
 * cooldown, on a cluster where no placement of whole VMs fits CSLB's band.
 * VMs go back and forth; the engine alerts and journals once per VM episode,
 * counts every return, and lists the VMs in /status.
 */
import { describe, expect, it } from "vitest";
import { EngineMetrics, wireEngineMetrics } from "../../../engine/http/metrics.js";
import { PingPongDetector, pingPongMessage } from "../../../engine/run/pingpong.js";
import { engineTestState, journalOf, testConfig } from "./harness.js";

const t = engineTestState();

describe("PingPongDetector", () => {
  it("a return within the window starts an episode; later returns only count; the window forgets", () => {
    const d = new PingPongDetector(60_000);
    expect(d.migrated("v1", "a", "b", "cslb.balance", 0)).toBeNull();
    expect(d.migrated("v2", "a", "c", "cslb.balance", 1_000)).toBeNull();
    const back = d.migrated("v1", "b", "a", "cslb.balance", 20_000);
    expect(back).toEqual({ vm: "v1", host: "a", from: "b", away_rule: "cslb.balance", back_rule: "cslb.balance", after_s: 20, new_episode: true });
    expect(pingPongMessage(back!)).toBe("ping-pong: v1 migrated back to a from b 20 s after leaving it (by cslb.balance)");
    expect(d.migrated("v1", "a", "b", "cslb.balance", 30_000)).toMatchObject({ host: "b", new_episode: false, after_s: 10 });
    expect(d.active(30_000)).toEqual([{ vm: "v1", hosts: ["a", "b"], rule: "cslb.balance", returns: 2, last_at: new Date(30_000).toISOString() }]);
    // A move to a third host is no return.
    expect(d.migrated("v2", "c", "d", "cslb.balance", 40_000)).toBeNull();
    // Past the window the episode ends and old departures are forgotten.
    expect(d.active(95_000)).toEqual([]);
    expect(d.migrated("v1", "b", "a", "evacuate.drain", 200_000)).toBeNull();
  });

  it("names both rules when they differ", () => {
    const d = new PingPongDetector(1_800_000);
    d.migrated("db1", "h1", "h2", "evacuate.drain", 0);
    expect(pingPongMessage(d.migrated("db1", "h2", "h1", "cslb.balance", 300_000)!)).toBe(
      "ping-pong: db1 migrated back to h1 from h2 5 min after leaving it (away by evacuate.drain, back by cslb.balance)",
    );
  });
});

describe("engine: live ping-pong detection", () => {
  it("alerts and journals once per VM episode, counts every return, and lists the VMs in /status", async () => {
    // Two 4-CPU hosts, busy VMs at 100 % of a CPU: a 50 %, b 25 %, mean 37.5 ± 10.
    const cluster = await t.startCluster(
      [
        { name: "a", vms: ["v1", "v2"] },
        { name: "b", vms: ["v3"] },
      ],
      { busyDemand: 100 },
    );
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts, { cooldown: 0 }));
    const metrics = new EngineMetrics({ status: () => engine.status() });
    wireEngineMetrics(engine.events, metrics);
    const moves: string[] = [];
    for (let i = 0; i < 8; i++) {
      await engine.runRound();
      for (const a of engine.lastPlan()!.actions) if (a.kind === "migrate") moves.push(`${a.vm} ${a.from}>${a.to}`);
    }
    // CSLB without a cooldown swaps a VM every round.
    expect(moves.length).toBeGreaterThanOrEqual(6);

    const journal = await journalOf(engine);
    const alerts = journal.filter((e) => e.kind === "alert" && e.message?.startsWith("ping-pong: "));
    const episodes = engine.status().pingpong;
    expect(episodes.length).toBeGreaterThan(0);
    // One journaled alert per VM that ping-pongs, naming the VM, both hosts and the rule.
    expect(alerts.map((a) => a.vm).sort()).toEqual(episodes.map((e) => e.vm));
    for (const a of alerts) {
      expect(a).toMatchObject({ phase: "start", rule: "cslb.balance" });
      expect(a.message).toMatch(new RegExp(`^ping-pong: ${a.vm} migrated back to ${a.to} from ${a.from} \\d+ s after leaving it \\(by cslb\\.balance\\)$`));
    }
    for (const e of episodes) expect(e).toMatchObject({ hosts: ["a", "b"], rule: "cslb.balance" });
    const returns = episodes.reduce((n, e) => n + e.returns, 0);
    expect(returns).toBeGreaterThanOrEqual(alerts.length);
    expect(await metrics.text()).toContain(`vmpolicy_pingpong_total ${returns}`);
    expect(lines.filter((l) => l.msg.includes("ping-pong: ")).length).toBe(alerts.length);
  });

  it("pingpong_window: 0 turns it off", async () => {
    const cluster = await t.startCluster(
      [
        { name: "a", vms: ["v1", "v2"] },
        { name: "b", vms: ["v3"] },
      ],
      { busyDemand: 100 },
    );
    const { engine } = await t.startEngine(testConfig(cluster.hosts, { cooldown: 0, pingpong_window: 0 }));
    for (let i = 0; i < 6; i++) await engine.runRound();
    expect(engine.status().pingpong).toEqual([]);
    expect((await journalOf(engine)).some((e) => e.kind === "alert")).toBe(false);
  });
});
