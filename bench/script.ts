/**
 * `script_call_us`: what one call into a policy's QuickJS sandbox costs, so
 * an operator can weigh a `script` function against the language (issues 4
 * and 14). The arguments are what the planner passes: a host of the round
 * (13 fields, labels, 20 VM names) as a `ScriptRef`, and a number. A host
 * crosses into QuickJS once per round and version, then by handle; figures
 * are medians over batches of calls.
 */
import type { Benchmark } from "./api.js";
import { median, round } from "./api.js";
import { createPolicySandbox, loadSandbox } from "../engine/sandbox/index.js";
import { DEFAULT_SCRIPT_LIMITS } from "../engine/types.js";
import { ScriptRef } from "../grammar/compile-script.js";
import type { HostView, VmView } from "../grammar/view.js";

const SOURCE = [
  "function headroom(host, target) { return (target - host.load) * host.cpus; }",
  "function add(a, b) { return a + b; }",
].join("\n");

/** Hosts shaped like the planner's (`engine/plan/cluster.ts`): plain fields, a `vms` list replaced when a VM moves. */
function benchHosts(count: number): (HostView & { load: number; vms: readonly VmView[] })[] {
  return Array.from({ length: count }, (_, index) => {
    const host = {
      name: `xen${String(index).padStart(2, "0")}`,
      state: "up" as const,
      cpus: 8,
      mem: 32768,
      labels: { rack: "r3", tier: "web" },
      vms: [] as VmView[],
      load: 57.25,
      load_avg: 55.5,
      other_cpu: 0,
      used: 57.25,
      mem_used: 20480,
      mem_free: 12288,
      mem_avail: 12288,
      vm_count: 20,
      busy: false,
      index,
    };
    host.vms = Array.from({ length: 20 }, (_, i) => ({ name: `web${index}-${String(i).padStart(2, "0")}`, cpu: 22.9, cpu_avg: 22.2, cpu_changes: 0, mem: 1024, labels: {}, pinned: false, migrating: false, host, load: 2.86, index: i }));
    return host;
  });
}

/** Median microseconds per call of `fn`, over `batches` batches of `perBatch` calls (`before` runs untimed ahead of each batch). */
function perCallUs(fn: () => void, batches: number, perBatch: number, before: () => void = () => {}): number {
  for (let i = 0; i < perBatch; i++) fn();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    before();
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e3 / perBatch);
  }
  return median(samples);
}

const bench: Benchmark = {
  name: "script_call_us",
  description: "median µs of one script call with a host of the round (already in the sandbox this round); also its first call in a round, a moved host, two numbers, beginRound",
  async run() {
    await loadSandbox();
    const sb = createPolicySandbox({
      policy: "bench",
      scripts: [{ source: SOURCE, sourceStart: { offset: 0, line: 1, column: 1 } }],
      limits: { ...DEFAULT_SCRIPT_LIMITS, roundMs: 1e9 },
    });
    const hosts = benchHosts(20);
    sb.beginRound();
    const check = sb.call("headroom", [new ScriptRef(hosts[0]!, "moderate"), 64]);
    if (!check.ok || check.value !== (64 - 57.25) * 8) throw new Error(`script_call_us: unexpected result ${JSON.stringify(check)}`);
    let next = 0;
    const anyHost = () => hosts[next++ % hosts.length]!;
    // Warm up first: V8 optimises the WASM and the call path only after some thousands of calls,
    // and the first figure measured in a fresh process was 3-5 times the later ones.
    for (let i = 0; i < 20_000; i++) sb.call(i % 2 === 0 ? "headroom" : "add", i % 2 === 0 ? [new ScriptRef(anyHost(), "moderate"), 64] : [1, 2]);
    // The planner's usual call: a host of the round that crossed earlier this round (e.g. `dst` across the VMs of a `pick`).
    const roundHost = perCallUs(() => void sb.call("headroom", [new ScriptRef(anyHost(), "moderate"), 64]), 30, 1000);
    // The first call of the round with each host: it crosses as JSON.
    const firstCall = perCallUs(() => void sb.call("headroom", [new ScriptRef(anyHost(), "moderate"), 64]), 30, hosts.length, () => sb.beginRound());
    // A host that moved since it last crossed (a VM planned in or out: new load, new VM list) on every call: the worst case.
    const moving = hosts[0]!;
    let tick = 0;
    const movedCall = perCallUs(
      () => {
        moving.load = 50 + (tick++ % 100000) / 1000;
        moving.vms = moving.vms.slice();
        void sb.call("headroom", [new ScriptRef(moving, "moderate"), 64]);
      },
      30,
      1000,
    );
    const numberCall = perCallUs(() => void sb.call("add", [1, 2]), 30, 1000);
    const beginRound = perCallUs(() => sb.beginRound(), 15, 100);
    sb.dispose();
    return {
      median_us: round(roundHost, 2),
      first_in_round_us: round(firstCall, 2),
      moved_host_us: round(movedCall, 2),
      numbers_us: round(numberCall, 2),
      begin_round_us: round(beginRound, 2),
    };
  },
};

export default bench;
