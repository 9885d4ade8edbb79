/**
 * Script functions in planning (SPEC 2.8) through the QuickJS sandbox: a
 * value from a script, a VM named by a script's string, a throwing script
 * that fails only its own binding, and the same plan twice.
 */
import { describe, expect, it } from "vitest";
import { planRound } from "../../../engine/plan/index.js";
import { loadPolicySet } from "../../../engine/policy/set.js";
import { DEFAULT_PLAN_SETTINGS } from "../../../engine/types.js";
import { factsOf, host, planWith } from "../../scenarios/helpers.js";

const POLICY = `policy s
script """
function headroom(host, target) { return (target - host.load) * host.cpus; }
function last_vm(host) { return host.vms.length === 0 ? null : host.vms[host.vms.length - 1]; }
function boom(name) { if (name === "h2") throw new Error("no " + name); return 1; }
"""
let room = headroom(pick host by host.name, 50)

rule move
  for each host as h where h.name == "h1"
  then migrate last_vm(h) to pick host where host.name == "h3" by host.load

rule risky priority 1
  for each host as h by h.name
  when boom(h.name) == 1
  then alert h.name
`;

// h1: 2 CPUs, a 40 + b 20 → load 30; h2: c 10; h3 empty.
const FACTS = { hosts: [host("h1", 2, 8192, [["a", 40], ["b", 20]]), host("h2", 2, 8192, [["c", 10]]), host("h3", 2, 8192, [])] };

describe("script functions in a round", () => {
  it("compute values, name VMs, and fail only the binding that called a throwing script", async () => {
    const plan = await planWith([{ file: "s.policy", text: POLICY }], FACTS);
    // room = (50 - 30) * 2
    expect(plan.values).toEqual({ s: { room: 40 } });
    expect(plan.actions).toEqual([
      { kind: "alert", message: "h1", rule: "s.risky" },
      { kind: "alert", message: "h3", rule: "s.risky" },
      { kind: "migrate", vm: "b", from: "h1", to: "h3", rule: "s.move" },
    ]);
    expect(plan.errors).toHaveLength(1);
    expect(plan.errors[0]!.rule).toBe("s.risky");
    expect(plan.errors[0]!.message).toMatch(/^script boom: .*no h2/);
    const again = await planWith([{ file: "s.policy", text: POLICY }], FACTS);
    expect(JSON.stringify(again)).toBe(JSON.stringify(plan));
  });

  it("reports a script's string that names no VM as an error of that binding", async () => {
    const text = POLICY.replace("host.vms[host.vms.length - 1]", '"ghost"');
    const plan = await planWith([{ file: "s.policy", text }], FACTS);
    expect(plan.actions.filter((a) => a.kind === "migrate")).toEqual([]);
    expect(plan.errors).toContainEqual({ rule: "s.move", message: 'script last_vm: returned "ghost", which names no vm' });
  });

  it("starts every round from freshly loaded scripts, so a script's globals cannot make round 2 differ from round 1", async () => {
    const text = `policy s
script """
var calls = 0;
function nth() { calls += 1; return "call " + calls; }
"""
rule count
  for each host as h by h.name
  then alert nth()
`;
    const loaded = await loadPolicySet([{ file: "s.policy", text }]);
    expect(loaded.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const set = loaded.set!;
    try {
      const facts = factsOf(FACTS);
      const rounds = [1, 2, 3].map(() => planRound(set, facts, DEFAULT_PLAN_SETTINGS));
      // Within a round the calls share the globals, in the planner's order.
      expect(rounds[0]!.actions.map((a) => (a.kind === "alert" ? a.message : a.kind))).toEqual(["call 1", "call 2", "call 3"]);
      expect(JSON.stringify(rounds[1])).toBe(JSON.stringify(rounds[0]));
      expect(JSON.stringify(rounds[2])).toBe(JSON.stringify(rounds[0]));
    } finally {
      set.dispose();
    }
  });
});

describe("hosts and VMs passed to scripts in a round", () => {
  // Each host and VM crosses into QuickJS once per round and version (issue 14): a
  // script sees the projected cluster as it is at the call, even after a planned move.
  const text = `policy s
script """
var kept = null;
function show(h) { return h.name + " " + h.vm_count + " " + h.vms.join("/") + " " + h.busy + " " + h.load; }
function place(vm) { return vm.name + "@" + vm.host + " " + vm.load; }
function keep(h) { kept = h; return h.vms.join("/"); }
function held() { return kept.name + " " + kept.vms.join("/") + " " + kept.busy; }
function poke(h) { "use strict"; try { h.load = 999; } catch (e) { return e.name; } return "wrote"; }
"""
rule early priority 3
  for each host as h where h.name == "h3"
  then alert keep(h)

rule move priority 2
  for each host as h where h.name == "h1"
  then migrate pick vm in h.vms by vm.name desc to pick host where host.name == "h3" by host.load

rule after priority 1
  for each host as h by h.name
  then alert show(h), alert poke(h)

rule vms
  for each vm as v by v.name
  then alert place(v), alert held()
`;

  it("see a host that a planned move changed as it is now, and keep what an earlier call saw unchanged", async () => {
    const plan = await planWith([{ file: "s.policy", text }], FACTS);
    expect(plan.errors).toEqual([]);
    const alerts = plan.actions.filter((a) => a.kind === "alert").map((a) => (a as { message: string }).message);
    expect(plan.actions.filter((a) => a.kind === "migrate")).toEqual([{ kind: "migrate", vm: "b", from: "h1", to: "h3", rule: "s.move" }]);
    expect(alerts).toEqual([
      // h3 as it was before the move, kept in a global.
      "",
      // After the move: h1 lost b, h3 gained it; both busy. A frozen host refuses the write.
      "h1 1 a true 20",
      "TypeError",
      "h2 1 c false 5",
      "TypeError",
      "h3 1 b true 10",
      "TypeError",
      // VMs: b now on h3 (load = cpu / h3's cpus); the kept h3 is still the old one.
      "a@h1 20",
      "h3  false",
      "b@h3 10",
      "h3  false",
      "c@h2 5",
      "h3  false",
    ]);
  });
});

describe("a host's group as a script sees it", () => {
  it("is none while the groups are being classified and the host's group afterwards, in the same round", async () => {
    const text = `policy g
script """
var first = null;
function big(h) { if (first === null) first = h; return h.load > 20; }
function groupOf(h) { return String(h.group); }
function firstStill() { return String(first.group) + " " + Object.isFrozen(first); }
"""
group heavy when big(host)
group rest otherwise

rule show
  for each host as h by h.name
  then alert groupOf(h), alert firstStill()
`;
    const plan = await planWith([{ file: "g.policy", text }], FACTS);
    expect(plan.errors).toEqual([]);
    // h1 (load 30) is heavy, h2 (5) and h3 (0) are rest; the object the classifier saw keeps group none.
    expect(plan.actions.map((a) => (a as { message: string }).message)).toEqual(["heavy", "null true", "rest", "null true", "rest", "null true"]);
  });
});
