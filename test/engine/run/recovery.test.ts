import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JournalEntry } from "../../../engine/http/control.js";
import { engineTestState, journalOf, placement, testConfig, until } from "./harness.js";

const t = engineTestState();

const IMBALANCED = [
  { name: "h1", vms: ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"] },
  { name: "h2", vms: ["b1", "b2"] },
  { name: "h3", vms: ["c1", "c2"] },
];

describe("engine: journal reconciliation", () => {
  it("an engine stopped mid-migration is followed by one that finishes tracking it, without issuing it again", async () => {
    // 1 GiB at 1 GiB/s: each migration takes a second; the round waits only 0.18 s.
    const cluster = await t.startCluster(IMBALANCED, { vmMem: 1024, migrationRate: 1024 });
    const config = testConfig(cluster.hosts, { interval: 0.2, cooldown: 60 });
    const first = await t.startEngine(config);
    await first.engine.runRound();
    const issued = (await journalOf(first.engine)).filter((e) => e.kind === "migrate");
    const started = issued.filter((e) => e.agent_id !== undefined);
    expect(started.map((e) => `${e.vm}:${e.from}->${e.to}`)).toEqual(["a1:h1->h2"]);
    expect(issued.filter((e) => e.phase === "end")).toEqual([]);
    await first.engine.stop();

    const second = await t.startEngine(config);
    expect(second.lines.some((l) => /journal: 1 unfinished action\(s\); reconciling/.test(l.msg))).toBe(true);
    // Still running on the agent: tracked as in flight, so the first round does not move a1 again.
    await second.engine.runRound();
    const moved = second.engine.lastPlan()!.actions.flatMap((a) => (a.kind === "migrate" ? [a.vm] : []));
    expect(moved).not.toContain("a1");
    // h2, the destination in flight, counts as busy: the planner moves a2 to h3 instead.
    expect(second.engine.lastPlan()!.actions).toEqual([{ kind: "migrate", vm: "a2", from: "h1", to: "h3", rule: "cslb.balance" }]);
    await until(async () => (await journalOf(second.engine)).some((e) => e.phase === "end" && e.vm === "a1"), 5000, "a1's end line");
    const journal = await journalOf(second.engine);
    for (const s of started) {
      expect(journal.filter((e) => e.id === s.id && e.phase === "end").map((e) => e.outcome)).toEqual(["completed"]);
    }
    const p = await placement(cluster);
    expect(p.h2).toContain("a1");
    // Never issued twice: one action id for a1 across both engines.
    expect(new Set(journal.filter((e) => e.vm === "a1").map((e) => e.id)).size).toBe(1);
  });

  it("settles every crash window from the agents and the facts before the first round", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1", "a2"] },
      { name: "h2", vms: ["b1"] },
      { name: "h3", vms: ["c1", "c2"] },
    ]);
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-recon-"));
    const path = join(dir, "journal.jsonl");
    const at = new Date().toISOString();
    const base = { phase: "start", at, kind: "migrate", rule: "cslb.balance" } as const;
    const lines: JournalEntry[] = [
      // Crash before the agent answered; the VM is still on its source.
      { ...base, id: "w1", vm: "a1", from: "h1", to: "h2" },
      // Crash before the agent answered; the migration happened (c1 is on h3 = its destination).
      { ...base, id: "w2", vm: "c1", from: "h2", to: "h3" },
      // The agent's id is unknown to it (agent restarted); the VM stayed.
      { ...base, id: "w3", vm: "b1", from: "h2", to: "h1" },
      { ...base, id: "w3", vm: "b1", from: "h2", to: "h1", agent_id: "no-such-id" },
      // A host the config no longer has.
      { ...base, id: "w4", vm: "z9", from: "gone", to: "h1" },
      // Finished: left alone.
      { ...base, id: "w5", vm: "a2", from: "h2", to: "h1" },
      { ...base, id: "w5", phase: "end", vm: "a2", from: "h2", to: "h1", outcome: "completed" },
    ];
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join("\n") + "\n" + '{"id":"w6","pha');
    const { engine, lines: log } = await t.startEngine(testConfig(cluster.hosts, { journal: path }));
    expect(log.some((l) => /truncated last line ignored/.test(l.msg))).toBe(true);
    const ends = (await journalOf(engine)).filter((e) => e.phase === "end" && e.id !== "w5");
    expect(ends.map((e) => [e.id, e.outcome, e.error ?? e.message])).toEqual([
      ["w1", "failed", "the engine stopped before the agent confirmed it; still on h1"],
      ["w2", "completed", "the engine stopped before the agent confirmed it; found on h3"],
      ["w3", "failed", "h2 no longer knows action no-such-id; still on h2"],
      ["w4", "lost", "host gone is no longer configured"],
    ]);
    // Nothing is re-issued: the cluster is left as the facts show it.
    await engine.runRound();
    expect(engine.lastPlan()!.actions).toEqual([]);
    expect(await placement(cluster)).toEqual({ h1: ["a1", "a2"], h2: ["b1"], h3: ["c1", "c2"] });
  });
});
