/**
 * Hosts and VMs of the round as script arguments (`ScriptRef`, issue 14): one
 * frozen copy per round and version inside the QuickJS context, passed by
 * handle, with the same guarantees as the JSON snapshots they replace.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createPolicySandbox, loadSandbox, type ScriptCallResult } from "../../../engine/sandbox/index.js";
import { DEFAULT_SCRIPT_LIMITS } from "../../../engine/types.js";
import { ScriptRef } from "../../../grammar/compile-script.js";
import { toScriptArg } from "../../../grammar/compile-values.js";
import type { HostView, VmView } from "../../../grammar/view.js";

beforeAll(async () => {
  await loadSandbox();
});

type MutableHost = { -readonly [K in keyof HostView]: HostView[K] };
type MutableVm = { -readonly [K in keyof VmView]: VmView[K] };

/** A host and its VMs shaped like the planner's: plain fields, a `vms` list replaced (never mutated) when a VM moves. */
function hostWith(name: string, index: number, vmNames: string[]): MutableHost {
  const host: MutableHost = {
    name,
    state: "up",
    cpus: 4,
    mem: 8192,
    labels: { rack: "r1" },
    vms: [],
    load: 0,
    load_avg: 0,
    other_cpu: 0,
    used: 0,
    mem_used: 0,
    mem_free: 8192,
    mem_avail: 8192,
    vm_count: 0,
    busy: false,
    index,
  };
  host.vms = vmNames.map((n, i): MutableVm => ({ name: n, cpu: 40, cpu_avg: 38, cpu_changes: 0, mem: 1024, labels: { app: "web" }, pinned: false, migrating: false, host, load: 10, index: i }));
  host.vm_count = host.vms.length;
  host.load = 10 * host.vms.length;
  return host;
}

/** Moves `vm` from its host to `to` as the planner does: new lists, recomputed fields, both ends busy. */
function move(vm: MutableVm, to: MutableHost): void {
  const from = vm.host as MutableHost;
  from.vms = from.vms.filter((v) => v !== vm);
  to.vms = [...to.vms, vm];
  vm.host = to;
  vm.load = vm.cpu / to.cpus;
  for (const h of [from, to]) {
    h.vm_count = h.vms.length;
    h.load = h.vms.reduce((s, v) => s + v.cpu, 0) / h.cpus;
    h.busy = true;
  }
}

const SOURCE = [
  "var seen = [];",
  "function see(x) { seen.push(x); return seen.length; }",
  "function same(i, j) { return seen[i] === seen[j]; }",
  "function show(i) { const h = seen[i]; return JSON.stringify(h); }",
  "function frozen(i) { const h = seen[i]; return Object.isFrozen(h) && Object.isFrozen(h.labels) && (h.vms === undefined || Object.isFrozen(h.vms)); }",
  "function vandal(h) { h.load = 1; h.labels.rack = 'x'; try { h.vms.push('intruder'); } catch (e) {} return h.load; }",
  "function strict(h) { 'use strict'; try { h.load = 1; return 'wrote'; } catch (e) { return e.name; } }",
  "function pair(a, b) { return a.name + '/' + b.name + ':' + (a === b); }",
].join("\n");

function sandbox(limits = DEFAULT_SCRIPT_LIMITS) {
  return createPolicySandbox({ policy: "demo", scripts: [{ source: SOURCE, sourceStart: { offset: 0, line: 1, column: 1 } }], limits });
}

function value(r: ScriptCallResult): unknown {
  expect(r).toMatchObject({ ok: true });
  return r.ok ? r.value : undefined;
}

describe("hosts and VMs as script arguments", () => {
  it("give the script exactly the JSON snapshot, frozen, and the same object in every call while the view has not moved", () => {
    const sb = sandbox();
    const h1 = hostWith("h1", 0, ["a", "b"]);
    sb.beginRound();
    value(sb.call("see", [new ScriptRef(h1, "heavy")]));
    value(sb.call("see", [new ScriptRef(h1, "heavy")]));
    value(sb.call("see", [new ScriptRef(h1.vms[0]!, null)]));
    expect(value(sb.call("same", [0, 1]))).toBe(true);
    expect(JSON.parse(value(sb.call("show", [0])) as string)).toEqual(toScriptArg(h1, () => "heavy"));
    expect(value(sb.call("show", [0]))).toBe(JSON.stringify(toScriptArg(h1, () => "heavy")));
    expect(value(sb.call("show", [2]))).toBe(JSON.stringify(toScriptArg(h1.vms[0]!, () => null)));
    expect(value(sb.call("frozen", [0]))).toBe(true);
    expect(value(sb.call("frozen", [2]))).toBe(true);
    sb.dispose();
  });

  it("give a host or VM that moved a new object with its new fields, and leave the object an earlier call kept as it was", () => {
    const sb = sandbox();
    const h1 = hostWith("h1", 0, ["a", "b"]);
    const h2 = hostWith("h2", 1, []);
    const b = h1.vms[1] as MutableVm;
    sb.beginRound();
    sb.call("see", [new ScriptRef(h1, null)]); // 0: while classifying, no group yet
    sb.call("see", [new ScriptRef(h1, "heavy")]); // 1: the group is known
    sb.call("see", [new ScriptRef(b, null)]); // 2
    move(b, h2);
    sb.call("see", [new ScriptRef(h1, "heavy")]); // 3
    sb.call("see", [new ScriptRef(b, null)]); // 4
    sb.call("see", [new ScriptRef(h2, "light")]); // 5
    expect(value(sb.call("same", [0, 1]))).toBe(false);
    expect(JSON.parse(value(sb.call("show", [0])) as string)).toMatchObject({ group: null, vms: ["a", "b"] });
    expect(JSON.parse(value(sb.call("show", [1])) as string)).toMatchObject({ group: "heavy", vms: ["a", "b"], load: 20, busy: false });
    expect(JSON.parse(value(sb.call("show", [3])) as string)).toMatchObject({ group: "heavy", vms: ["a"], vm_count: 1, load: 10, busy: true });
    expect(JSON.parse(value(sb.call("show", [2])) as string)).toMatchObject({ name: "b", host: "h1", load: 10 });
    expect(JSON.parse(value(sb.call("show", [4])) as string)).toMatchObject({ name: "b", host: "h2", load: 10 });
    expect(JSON.parse(value(sb.call("show", [5])) as string)).toMatchObject({ vms: ["b"], busy: true, group: "light" });
    sb.dispose();
  });

  it("refuse writes, so a script changing an argument changes nothing another call or the next round sees", () => {
    const sb = sandbox();
    const h1 = hostWith("h1", 0, ["a", "b"]);
    for (let round = 0; round < 2; round++) {
      sb.beginRound();
      // A sloppy-mode write to a frozen object is ignored; push on a frozen list throws (caught by the script).
      expect(value(sb.call("vandal", [new ScriptRef(h1, "heavy")]))).toBe(20);
      expect(value(sb.call("strict", [new ScriptRef(h1, "heavy")]))).toBe("TypeError");
      expect(value(sb.call("strict", [new ScriptRef(h1.vms[0]!, null)]))).toBe("TypeError");
      sb.call("see", [new ScriptRef(h1, "heavy")]);
      expect(JSON.parse(value(sb.call("show", [0])) as string)).toEqual(toScriptArg(h1, () => "heavy"));
    }
    sb.dispose();
  });

  it("are let go at the end of the round: a later call passes the view afresh", () => {
    const sb = sandbox();
    const h1 = hostWith("h1", 0, ["a"]);
    sb.beginRound();
    sb.call("see", [new ScriptRef(h1, null)]);
    sb.call("see", [new ScriptRef(h1, null)]);
    sb.endRound();
    sb.call("see", [new ScriptRef(h1, null)]);
    expect(value(sb.call("same", [0, 1]))).toBe(true);
    expect(value(sb.call("same", [1, 2]))).toBe(false);
    expect(value(sb.call("show", [2]))).toBe(JSON.stringify(toScriptArg(h1, () => null)));
    sb.dispose();
  });

  it("stay right past the table's size: the table starts over without freeing an argument of the call in progress", () => {
    // 1,500 calls that each pass a new host can take more than the default 500 ms round budget on a busy machine.
    const sb = sandbox({ ...DEFAULT_SCRIPT_LIMITS, roundMs: 60_000 });
    const hosts = Array.from({ length: 1500 }, (_, i) => hostWith(`h${i}`, i, [`v${i}`]));
    sb.beginRound();
    for (let i = 1; i < hosts.length; i++) {
      const r = sb.call("pair", [new ScriptRef(hosts[i - 1]!, null), new ScriptRef(hosts[i]!, null)]);
      expect(r).toEqual({ ok: true, value: `h${i - 1}/h${i}:false` });
    }
    expect(sb.call("pair", [new ScriptRef(hosts[7]!, null), new ScriptRef(hosts[7]!, null)])).toEqual({ ok: true, value: "h7/h7:true" });
    sb.dispose();
  });
});
