/**
 * A recording made by a real engine run on sim agents, for the replay
 * tests (test/engine/run/recording.test.ts, test/bin/replay.test.ts).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Plan } from "../../../engine/types.js";
import { startCluster, startEngine, testConfig } from "./harness.js";

/**
 * Runs `rounds` rounds of the engine (the default policies) on an
 * imbalanced cluster (six busy VMs on xen1, one idle on xen2) recording to
 * a fresh folder; returns the folder and each round's plan.
 */
export async function recordRounds(rounds: number): Promise<{ dir: string; plans: Plan[] }> {
  const cluster = await startCluster([
    { name: "xen1", vms: ["vm1", "vm2", "vm3", "vm4", "vm5", "vm6"] },
    { name: "xen2", vms: ["vm7*"] },
  ]);
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-recording-"));
  try {
    const { engine } = await startEngine(testConfig(cluster.hosts, { record: { dir, max_bytes: 200 * 1024 * 1024 } }));
    const plans: Plan[] = [];
    engine.events.on("round", (_s, plan: Plan | null) => void (plan && plans.push(plan)));
    try {
      for (let i = 0; i < rounds; i++) await engine.runRound();
    } finally {
      await engine.stop();
    }
    return { dir, plans };
  } finally {
    await cluster.close();
  }
}
