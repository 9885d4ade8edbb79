/**
 * A host that stops answering keeps its last facts (until and after
 * down_after), and those facts can be older than a migration that has
 * since completed: the VM then shows on the silent host (stale) and on its
 * destination (fresh). The fresh report wins, so the round is planned
 * (a validation failure here would block every round, including the
 * `recover` of the lost host's other VMs) and no second copy of the moved
 * VM is ever restarted from the lost host.
 */
import { describe, expect, it } from "vitest";
import type { HostConfig } from "../engine/config.js";
import type { AgentPort } from "../engine/engine-agents.js";
import { HostTracker } from "../engine/engine-facts.js";
import { CpuSmoother } from "../engine/engine-smoothing.js";
import { validateFacts } from "../engine/facts.js";
import { testLogger } from "./engine-harness.js";

const HOSTS: HostConfig[] = [
  { name: "h1", url: "http://127.0.0.1:9001" },
  { name: "h2", url: "http://127.0.0.1:9002" },
];

function agents(vms: Record<string, string[]>, dead: Set<string>, bad: Set<string> = new Set()): AgentPort {
  return {
    facts: async (host) => {
      if (dead.has(host.name)) throw new Error("timed out");
      if (bad.has(host.name)) return { state: "up", cpus: -1, mem: 1, vms: [] };
      return { name: host.name, state: "up", cpus: 4, mem: 65536, labels: {}, vms: (vms[host.name] ?? []).map((name) => ({ name, cpu: 20, mem: 256 })) };
    },
    startMigration: async () => "m",
    startRestart: async () => "r",
    actionStatus: async () => ({ state: "completed" }),
  };
}

const placementOf = (raw: unknown) => {
  const v = validateFacts(raw);
  if (!v.ok) throw new Error(`snapshot rejected: ${v.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return v.facts.hosts.map((h) => [h.name, h.state, h.vms.map((vm) => vm.name)]);
};

describe("engine: stale facts of a silent host", () => {
  it("a VM that moved away before its old host went silent counts only where it is now", async () => {
    const vms: Record<string, string[]> = { h1: ["a1", "a2"], h2: ["b1"] };
    const dead = new Set<string>();
    const tracker = new HostTracker(HOSTS, agents(vms, dead), new CpuSmoother(0), testLogger().log, 0, Date.now(), { onDown: () => {}, onUp: () => {} });
    await tracker.gather();
    expect(placementOf(tracker.snapshot([], []))).toEqual([
      ["h1", "up", ["a1", "a2"]],
      ["h2", "up", ["b1"]],
    ]);
    // a1 migrated to h2 (completed, no longer in flight); then h1 went silent before reporting it.
    vms.h1 = ["a2"];
    vms.h2 = ["a1", "b1"];
    dead.add("h1");
    await tracker.gather(); // down_after is 0: h1 is down at once, with its last known VMs
    expect(placementOf(tracker.snapshot([], []))).toEqual([
      ["h1", "down", ["a2"]],
      ["h2", "up", ["a1", "b1"]],
    ]);
  });

  it("the same while the host is only silent (not yet down), and for a host whose answer was rejected", async () => {
    const vms: Record<string, string[]> = { h1: ["a1", "a2"], h2: ["b1"] };
    const dead = new Set<string>();
    const bad = new Set<string>();
    const tracker = new HostTracker(HOSTS, agents(vms, dead, bad), new CpuSmoother(0), testLogger().log, 60_000, Date.now(), { onDown: () => {}, onUp: () => {} });
    await tracker.gather();
    vms.h1 = ["a2"];
    vms.h2 = ["a1", "b1"];
    dead.add("h1");
    await tracker.gather();
    expect(placementOf(tracker.snapshot([], []))).toEqual([
      ["h1", "up", ["a2"]],
      ["h2", "up", ["a1", "b1"]],
    ]);
    dead.delete("h1");
    bad.add("h1");
    await tracker.gather();
    expect(placementOf(tracker.snapshot([], []))).toEqual([
      ["h1", "up", ["a2"]],
      ["h2", "up", ["a1", "b1"]],
    ]);
  });

  it("two fresh reports of one VM with no migration to explain them still fail validation", async () => {
    const tracker = new HostTracker(HOSTS, agents({ h1: ["a1"], h2: ["a1"] }, new Set()), new CpuSmoother(0), testLogger().log, 60_000, Date.now(), { onDown: () => {}, onUp: () => {} });
    await tracker.gather();
    expect(validateFacts(tracker.snapshot([], [])).ok).toBe(false);
  });
});
