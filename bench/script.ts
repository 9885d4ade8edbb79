/**
 * `script_call_us`: what one call into a policy's QuickJS sandbox costs, so
 * an operator can weigh a `script` function against the language (issue 4).
 * The argument is host-like (name, numbers, labels, 20 VM names), the shape
 * the planner passes; figures are medians over batches of calls.
 */
import type { Benchmark } from "./api.js";
import { median, round } from "./api.js";
import { createPolicySandbox, loadSandbox } from "../engine/sandbox/index.js";
import { DEFAULT_SCRIPT_LIMITS } from "../engine/types.js";

const SOURCE = [
  "function headroom(host, target) { return (target - host.load) * host.cpus; }",
  "function add(a, b) { return a + b; }",
].join("\n");

const HOST = {
  name: "xen07",
  state: "up",
  cpus: 8,
  mem: 32768,
  load: 57.25,
  load_avg: 55.5,
  mem_used: 20480,
  mem_free: 12288,
  vm_count: 20,
  busy: false,
  group: "moderate",
  labels: { rack: "r3", tier: "web" },
  vms: Array.from({ length: 20 }, (_, i) => `web${String(i).padStart(2, "0")}`),
};

/** Median microseconds per call of `fn`, over `batches` batches of `perBatch` calls. */
function perCallUs(fn: () => void, batches: number, perBatch: number): number {
  for (let i = 0; i < perBatch; i++) fn();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e3 / perBatch);
  }
  return median(samples);
}

const bench: Benchmark = {
  name: "script_call_us",
  description: "median µs of one script call with a new host-like argument; also a repeated host, two numbers, beginRound",
  async run() {
    await loadSandbox();
    const sb = createPolicySandbox({
      policy: "bench",
      scripts: [{ source: SOURCE, sourceStart: { offset: 0, line: 1, column: 1 } }],
      limits: { ...DEFAULT_SCRIPT_LIMITS, roundMs: 1e9 },
    });
    sb.beginRound();
    const check = sb.call("headroom", [HOST, 64]);
    if (!check.ok || check.value !== (64 - 57.25) * 8) throw new Error(`script_call_us: unexpected result ${JSON.stringify(check)}`);
    // A host whose JSON differs on every call (as when the projected load moves): the full path.
    let tick = 0;
    const freshCall = perCallUs(() => void sb.call("headroom", [{ ...HOST, load: 50 + (tick++ % 100000) / 1000 }, 64]), 30, 1000);
    // The same host again (e.g. `dst` across the VMs of one `pick`): parsed once per round.
    const cachedCall = perCallUs(() => void sb.call("headroom", [HOST, 64]), 30, 1000);
    const numberCall = perCallUs(() => void sb.call("add", [1, 2]), 30, 1000);
    const beginRound = perCallUs(() => sb.beginRound(), 15, 100);
    sb.dispose();
    return {
      median_us: round(freshCall, 2),
      repeated_host_us: round(cachedCall, 2),
      numbers_us: round(numberCall, 2),
      begin_round_us: round(beginRound, 2),
    };
  },
};

export default bench;
