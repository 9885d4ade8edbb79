/**
 * The demo cluster `vmpolicy run` starts when no hosts are configured
 * (SPEC 5): the thesis testbed (Wilcox 2009, ch. 4) as in-process `sim`
 * agents on loopback ephemeral ports: two 4-CPU hosts, nine VMs, eight of
 * them busy at a time with the busy set moving around. It starts
 * imbalanced (six busy VMs on one host, two busy and one idle on the other)
 * so the engine's first rounds visibly migrate. The agents are real HTTP
 * servers, so the engine drives them exactly as it drives remote hosts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { type RunningAgent, startAgent } from "../hosts/agent/server.js";
import type { HostConfig } from "./config.js";
import { SimDriver, type SimVmSpec } from "../hosts/drivers/sim/index.js";
import { systemClock } from "../hosts/drivers/sim/clock.js";
import { SimWorkload } from "../hosts/drivers/sim/workload.js";

export interface EmbeddedClusterOptions {
  readonly log: Logger;
  /** The cluster token, when the engine has one (agents then require it). */
  readonly token?: string;
  /** Seconds between workload switches (default 60, as the thesis's slow-changing load). */
  readonly period?: number;
  /** Workload PRNG seed (default 1). */
  readonly seed?: number;
  /** Live-migration speed in MiB/s (default 512: the demo's 1 GiB VMs move in 2 s). */
  readonly migrationRate?: number;
}

/** The running demo cluster. */
export interface EmbeddedCluster {
  readonly hosts: readonly HostConfig[];
  readonly agents: readonly RunningAgent[];
  readonly workload: SimWorkload;
  /** Stops the agents and removes the shared storage folder. */
  close(): Promise<void>;
}

const VM_MEM = 1024;
const HOST_MEM = 16384;

/** The testbed's layout: which VMs start where, and which start busy. */
function layout(): { name: string; vms: SimVmSpec[] }[] {
  const vm = (i: number, busy: boolean): SimVmSpec => ({ name: `vm${i}`, mem: VM_MEM, busy });
  return [
    { name: "xen1", vms: [1, 2, 3, 4, 5, 6].map((i) => vm(i, true)) },
    { name: "xen2", vms: [vm(7, true), vm(8, true), vm(9, false)] },
  ];
}

/** Starts the demo cluster; see the module comment. */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const storage = mkdtempSync(join(tmpdir(), "vmpolicy-demo-storage-"));
  // One workload for the whole cluster, as in the thesis: the busy set moves between VMs wherever they run.
  const workload = new SimWorkload({ clock: systemClock, seed: options.seed ?? 1, period: options.period ?? 60 });
  const agents: RunningAgent[] = [];
  const agentLog = options.log.child({ component: "demo-agent" }, { level: "warn" });
  try {
    for (const host of layout()) {
      const driver = new SimDriver({ name: host.name, cpus: 4, mem: HOST_MEM, vms: host.vms, workload, storage, migrationRate: options.migrationRate ?? 512 });
      agents.push(
        await startAgent({ name: host.name, driver, listen: "127.0.0.1:0", logger: agentLog.child({ host: host.name }), ...(options.token ? { token: options.token } : {}) }),
      );
    }
  } catch (e) {
    await Promise.all(agents.map((a) => a.close()));
    rmSync(storage, { recursive: true, force: true });
    throw e;
  }
  return {
    hosts: agents.map((a) => ({ name: a.name, url: a.url })),
    agents,
    workload,
    close: async () => {
      await Promise.all(agents.map((a) => a.close()));
      rmSync(storage, { recursive: true, force: true });
    },
  };
}
