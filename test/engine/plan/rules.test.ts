/**
 * How `planRound` runs rules (SPEC 2.6, 2.9): priority then set order then
 * file order, `for each` in `by` order with ties by name, `where` re-checked
 * when a binding's turn comes, groups per policy, the projected cluster
 * shared by all policies, explanations of skips, and params from outside.
 */
import { describe, expect, it } from "vitest";
import { loadPolicySet } from "../../../engine/policy/set.js";
import { host, planWith } from "../../scenarios/helpers.js";

const FACTS = {
  hosts: [
    host("h0", 4, 8192, [["w", 10]]),
    host("h1", 2, 8192, [["x", 20]]),
    host("h2", 4, 8192, [["y", 30]]),
    host("h3", 1, 8192, [["z", 40]]),
  ],
};

const alerts = (plan: { actions: readonly { kind: string }[] }) =>
  plan.actions.map((a) => (a.kind === "alert" ? `${(a as unknown as { rule: string }).rule}:${(a as unknown as { message: string }).message}` : a.kind));

describe("rule order", () => {
  it("runs for each in by order, ties by name, and without by in name order", async () => {
    const text = `policy t
rule by_cpus priority 1
  for each host by host.cpus desc
  then alert host.name
rule plain
  for each vm
  then alert vm.name
`;
    const plan = await planWith([{ file: "t.policy", text }], FACTS);
    // cpus: h0 4, h2 4 (tie → name), h1 2, h3 1
    expect(alerts(plan)).toEqual(["t.by_cpus:h0", "t.by_cpus:h2", "t.by_cpus:h1", "t.by_cpus:h3", "t.plain:w", "t.plain:x", "t.plain:y", "t.plain:z"]);
  });

  it("merges rules of all policies by priority, then set order, then file order", async () => {
    const p1 = `policy p1
rule a
  then alert "a"
rule b priority 5
  then alert "b"
`;
    const p2 = `policy p2
rule c priority 5
  then alert "c"
rule d priority 9
  then alert "d"
`;
    const plan = await planWith([{ file: "p1.policy", text: p1 }, { file: "p2.policy", text: p2 }], FACTS);
    expect(alerts(plan)).toEqual(["p2.d:d", "p1.b:b", "p2.c:c", "p1.a:a"]);
  });

  it("re-checks a for each's where when the binding's turn comes", async () => {
    // h0 gives w to h1 (the first other host by name): h0 and h1 become busy.
    // h1's turn: `not h.busy` no longer holds, so h1 is passed over. h2 gives y to h0.
    // h3 picks h0 too, which now takes part in 2 moves: refused (max_per_host 2).
    const text = `policy t
rule spread
  for each host as h where not h.busy by h.name
  let v = pick vm in h.vms by vm.cpu
  let dst = pick host where host.name != h.name by host.name
  then migrate v to dst
`;
    const plan = await planWith([{ file: "t.policy", text }], FACTS);
    expect(plan.actions).toEqual([
      { kind: "migrate", vm: "w", from: "h0", to: "h1", rule: "t.spread" },
      { kind: "migrate", vm: "y", from: "h2", to: "h0", rule: "t.spread" },
    ]);
    expect(plan.skipped).toEqual([
      {
        kind: "migrate",
        vm: "z",
        from: "h3",
        to: "h0",
        rule: "t.spread",
        reason: "destination h0 already takes part in 2 migrations or restarts (max_per_host is 2)",
      },
    ]);
  });

  it("fixes the for each order when the rule starts, even as loads change", async () => {
    // by load desc at the start: h3 40, h2 7.5, h1 10 → h3 (40), h1 (10), h2 (7.5), h0 (2.5).
    // h3 sends z to the least loaded host h0 (2.5 → 12.5); the order is not re-sorted.
    const text = `policy t
rule r
  for each host as h where h.vm_count > 0 by h.load desc
  let dst = pick host where host.name != h.name and not host.busy by host.load
  let v = pick vm in h.vms by vm.cpu
  then migrate v to dst, alert h.name
`;
    const plan = await planWith([{ file: "t.policy", text }], FACTS);
    expect(alerts(plan)).toEqual(["migrate", "t.r:h3", "migrate", "t.r:h1", "t.r:h2", "t.r:h0"]);
    expect(plan.actions.filter((a) => a.kind === "migrate")).toEqual([
      { kind: "migrate", vm: "z", from: "h3", to: "h0", rule: "t.r" },
      { kind: "migrate", vm: "x", from: "h1", to: "h2", rule: "t.r" },
    ]);
  });
});

describe("picks over hosts see planned moves", () => {
  it("re-ranks a host once a move changes its load (cached pick sites)", async () => {
    // 1-CPU hosts: a 0, b 10, c 80 (c1 50, c2 30), d 95 (d1 60, d2 35).
    // d first (95): the least loaded host is a → d1 moves to a, which is now at 60.
    // c next (80): least loaded is now b (10), not a → c1 moves to b.
    const text = `policy t
rule r
  for each host as src where src.load > 50 by src.load desc
  let dst = pick host where host.state == up by host.load
  let v = pick vm in src.vms by vm.cpu desc
  then migrate v to dst
`;
    const facts = {
      hosts: [host("a", 1, 8192, []), host("b", 1, 8192, [["b1", 10]]), host("c", 1, 8192, [["c1", 50], ["c2", 30]]), host("d", 1, 8192, [["d1", 60], ["d2", 35]])],
    };
    const plan = await planWith([{ file: "t.policy", text }], facts);
    expect(plan.actions).toEqual([
      { kind: "migrate", vm: "d1", from: "d", to: "a", rule: "t.r" },
      { kind: "migrate", vm: "c1", from: "c", to: "b", rule: "t.r" },
    ]);
  });
});

describe("several policies", () => {
  it("gives each policy its own groups, and host.group reads the reader's", async () => {
    const a = `policy a
group big when host.cpus >= 4
group small otherwise
rule r priority 1
  for each big host
  then alert host.name
`;
    const b = `policy b
group big when host.cpus >= 2
rule r
  for each host where host.group == big
  then alert host.name
`;
    const plan = await planWith([{ file: "a.policy", text: a }, { file: "b.policy", text: b }], FACTS);
    expect(plan.groups).toEqual({ a: { h0: "big", h1: "small", h2: "big", h3: "small" }, b: { h0: "big", h1: "big", h2: "big" } });
    expect(alerts(plan)).toEqual(["a.r:h0", "a.r:h2", "b.r:h0", "b.r:h1", "b.r:h2"]);
  });

  it("shows a move planned by one policy to the rules of another", async () => {
    const drain = `policy drain
rule empty_h3 priority 10
  for each host where host.name == "h3"
  then evacuate host
`;
    const watch = `policy watch
rule empty
  for each host where host.vm_count == 0
  then alert host.name
`;
    const plan = await planWith([{ file: "d.policy", text: drain }, { file: "w.policy", text: watch }], FACTS);
    expect(plan.actions).toEqual([
      // the up host with the lowest projected load: h0 (10 / 4 = 2.5)
      { kind: "migrate", vm: "z", from: "h3", to: "h0", rule: "drain.empty_h3" },
      { kind: "alert", message: "h3", rule: "watch.empty" },
    ]);
  });
});

describe("explain and params", () => {
  it("explains skips with the binding and lets", async () => {
    const text = `policy t
rule r
  for each host as h where h.name == "h1"
  let v = pick vm in h.vms where vm.cpu > 1000 by vm.cpu
  then migrate v to h
`;
    const plan = await planWith([{ file: "t.policy", text }], FACTS, { explain: true });
    expect(plan.skipped).toEqual([
      { kind: "migrate", to: "h1", rule: "t.r", reason: "vm is none", explain: { binding: { h: "h1" }, lets: { v: null } } },
    ]);
  });

  it("rejects unknown and ambiguous params and badly typed values", async () => {
    const p1 = { file: "p1.policy", text: "policy p1\nparam band = 10\nparam wait = 30s\nlet x = band + wait\n" };
    const p2 = { file: "p2.policy", text: "policy p2\nparam band = 5\nlet y = band\n" };
    const messages = async (params: string[]) => (await loadPolicySet([p1, p2], { params })).diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}${d.hint ? ` (${d.hint})` : ""}`);
    expect(await messages(["p1.bnd=3"])).toEqual(["E403 --param p1.bnd=3: unknown param `p1.bnd` (did you mean `p1.band`?)"]);
    expect(await messages(["band=3"])).toEqual([
      "E404 --param band=3: `band` is declared by several policies (p1.band, p2.band); name one as POLICY.band",
    ]);
    expect(await messages(["p1.band=lots"])).toEqual(["E405 --param p1.band=lots: p1.band is a number; `lots` is not a number"]);
    expect(await messages(["nonsense"])).toEqual(["E402 --param nonsense: expected POLICY.NAME=VALUE or NAME=VALUE"]);
    const ok = await loadPolicySet([p1, p2], { params: ["wait=2m", "p2.band=7.5"] });
    expect(ok.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const plan = await planWith([p1, p2], FACTS, {}, ["wait=2m", "p2.band=7.5"]);
    expect(plan.values).toEqual({ p1: { band: 10, wait: 120, x: 130 }, p2: { band: 7.5, y: 7.5 } });
  });

  it("reports each policy's name, file and hash, and a hash of the set", async () => {
    const src = { file: "t.policy", text: "policy t\nlet x = 1\n" };
    const loaded = await loadPolicySet([src]);
    expect(loaded.policies).toEqual([{ name: "t", file: "t.policy", hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(loaded.set!.hash).toMatch(/^[0-9a-f]{64}$/);
    const again = await loadPolicySet([{ ...src, text: src.text + "# changed\n" }]);
    expect(again.set!.hash).not.toBe(loaded.set!.hash);
    loaded.set!.dispose();
    again.set!.dispose();
  });
});

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
