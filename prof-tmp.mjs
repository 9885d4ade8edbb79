import { createPolicySandbox, loadSandbox } from "./dist/engine/sandbox/index.js";
import { DEFAULT_SCRIPT_LIMITS } from "./dist/engine/types.js";
import { ScriptRef } from "./dist/grammar/compile-script.js";
await loadSandbox();
const sb = createPolicySandbox({ policy: "b", scripts: [{ source: "function headroom(host, target) { return (target - host.load) * host.cpus; }", sourceStart: { offset: 0, line: 1, column: 1 } }], limits: { ...DEFAULT_SCRIPT_LIMITS, roundMs: 1e12 } });
sb.beginRound();
const host = { name: `xen1`, state: "up", cpus: 8, mem: 32768, labels: { rack: "r3", tier: "web" }, vms: [], load: 57.25, load_avg: 55.5, other_cpu: 0, used: 57.25, mem_used: 20480, mem_free: 12288, mem_avail: 12288, vm_count: 20, busy: false, index: 1 };
const s = Date.now();
while (Date.now() - s < 4000) for (let i = 0; i < 1000; i++) sb.call("headroom", [new ScriptRef(host, "g"), 64]);
