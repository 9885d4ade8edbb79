/**
 * Planning fixes from the second SPEC audit: a script failing inside a
 * constraint fails the binding and is the rule's error (SPEC 2.8), and
 * hosts or params named like Object.prototype's members keep their place
 * in the plan's `groups` and `values` (SPEC 3).
 */
import { describe, expect, it } from "vitest";
import { host, planWith } from "./scenarios/helpers.js";

describe("planning: second audit", () => {
  it("a script that throws inside a constraint fails the binding that asked, as an error of its rule", async () => {
    const text = `policy ce
script """
function ok(v, h) { throw new Error("nope " + v.name + " " + h.name); }
"""
constraint c
  require ok(vm, host)
rule m
  for each vm by vm.name
  let d = pick host where host.name == "h3" by host.name
  then migrate vm to d, alert "after " + vm.name
`;
    const facts = { hosts: [host("h1", 2, 8192, [["a", 40]]), host("h2", 2, 8192, [["b", 10]]), host("h3", 2, 8192, [])] };
    const plan = await planWith([{ file: "ce.policy", text }], facts);
    // The alert after the migrate never runs: the binding ended at the failing constraint.
    expect(plan.actions).toEqual([]);
    expect(plan.skipped).toEqual([]);
    expect(plan.errors).toEqual([
      { rule: "ce.m", message: "constraint ce.c: script ok: Error: nope a h3 (line 3 of the policy file)" },
      { rule: "ce.m", message: "constraint ce.c: script ok: Error: nope b h3 (line 3 of the policy file)" },
    ]);
  });

  it("hosts and params named __proto__, toString … are entries of groups and values like any other", async () => {
    const text = "policy p\nparam __proto__ = 3\nlet constructor = __proto__ + 1\ngroup heavy when host.load > 50\ngroup rest otherwise\nrule r for each heavy host then alert host.name\n";
    const facts = { hosts: [host("__proto__", 1, 1000, [["x", 90]]), host("toString", 1, 1000, [])] };
    const plan = await planWith([{ file: "p.policy", text }], facts);
    expect(JSON.stringify(plan.groups)).toBe('{"p":{"__proto__":"heavy","toString":"rest"}}');
    expect(JSON.stringify(plan.values)).toBe('{"p":{"__proto__":3,"constructor":4}}');
    expect(plan.actions).toEqual([{ kind: "alert", message: "__proto__", rule: "p.r" }]);
  });

  it("a script call with a none argument gives none without running the script (SPEC 2.5)", async () => {
    const text = `policy s
script """
function five(x) { return 5; }
function size(xs) { return xs.length; }
"""
let nowhere = pick host where host.cpus > 1000 by host.name
let a = five(nowhere)
let b = five(nowhere ?? pick host by host.name)
let c = size([1, 2])
`;
    const plan = await planWith([{ file: "s.policy", text }], { hosts: [host("h1", 2, 8192, [])] });
    expect(plan.values).toEqual({ s: { nowhere: null, a: null, b: 5, c: 2 } });
    expect(plan.errors).toEqual([]);
  });
});
