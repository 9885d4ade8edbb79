/**
 * A journal that cannot be written (a full disk) in a running engine: the
 * round still completes and reports, alerts are logged, and no migration
 * or restart is issued without its journal line.
 */
import { describe, expect, it } from "vitest";
import type { Engine } from "../engine/engine.js";
import type { Journal } from "../engine/journal.js";
import { engineTestState, placement, sleep, testConfig } from "./engine-harness.js";

const t = engineTestState();

function breakJournal(e: Engine): void {
  const journal = (e as unknown as { journal: Journal }).journal;
  journal.append = () => Promise.reject(new Error("ENOSPC: no space left on device, write"));
}

describe("engine: an unwritable journal", () => {
  it("rounds go on and report; the alert is logged; nothing is issued unjournaled", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6"] },
      { name: "h2", vms: ["b1"] },
      { name: "h3", vms: ["c1"] },
    ]);
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    const before = await placement(cluster);
    breakJournal(engine);
    await cluster.agents[2]!.close(); // h3 will be down: an alert (not fenced)
    await sleep(700);
    const summary = await engine.runRound();
    expect(summary).toMatchObject({ executed: true, errors: 0 });
    const kinds = engine.lastPlan()!.actions.map((a) => a.kind);
    expect(kinds).toContain("alert");
    expect(kinds).toContain("migrate");
    expect(lines.some((l) => /^alert \(evacuate\.recover\): cannot write the journal: ENOSPC/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /^not executing migrate of a\d: cannot write the journal: ENOSPC/.test(l.msg))).toBe(true);
    const after = await placement(cluster);
    expect({ h1: after.h1, h2: after.h2 }).toEqual({ h1: before.h1, h2: before.h2 });
    expect(engine.status().last_round).toEqual(summary);
  });
});
