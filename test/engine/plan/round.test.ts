import { describe, expect, it } from "vitest";
import type { PlacementConstraint } from "../../../grammar/view.js";
import { H, V, host, origin, round, vm } from "./round-helpers.js";

/**
 * a: up 4 cpus, load (100+50+30)/4 = 45     b: up 2 cpus, load 10
 * c: up 4 cpus, load 10                      s: up, only 512 MiB free
 * m: maintenance                             x: down
 */
function base(extra: Record<string, unknown> = {}) {
  return {
    hosts: [
      host("a", "up", 4, 16384, [vm("a1", 100, 2048), vm("a2", 50, 1024), vm("a3", 30, 1024, { pinned: true })]),
      host("b", "up", 2, 4096, [vm("b1", 20, 1024)]),
      host("c", "up", 4, 8192, [vm("c1", 40, 1024)]),
      host("s", "up", 4, 2048, [vm("s1", 10, 1536)]),
      host("m", "maintenance", 4, 8192, [vm("m1", 10, 512), vm("m2", 8, 512)]),
      host("x", "down", 4, 8192, [vm("x1", 10, 512)]),
    ],
    ...extra,
  };
}

describe("the projected cluster", () => {
  it("sorts hosts and VMs by name, with their index, whatever the snapshot's order", () => {
    const r = round({
      hosts: [host("zeta", "up", 2, 4096, [vm("y", 10, 1), vm("b", 20, 1)]), host("alpha", "up", 4, 4096, [vm("x", 1, 1)])],
    });
    // A VM's index is right even when read before the list of all VMs exists.
    expect(H(r, "zeta").vms.map((v) => [v.name, v.index])).toEqual([["b", 0], ["y", 2]]);
    expect(r.hosts.map((h) => [h.name, h.index])).toEqual([["alpha", 0], ["zeta", 1]]);
    expect(r.vms.map((v) => [v.name, v.index])).toEqual([["b", 0], ["x", 1], ["y", 2]]);
    expect(H(r, "zeta").vms.map((v) => v.name)).toEqual(["b", "y"]);
    expect(V(r, "y").host).toBe(H(r, "zeta"));
    expect(r.hostByName("nope")).toBeUndefined();
    expect(r.vmByName("nope")).toBeUndefined();
  });

  it("derives load, load_avg, mem_used, mem_free, vm_count and vm.load", () => {
    const r = round({ hosts: [host("h", "up", 4, 8192, [vm("v1", 100, 2048, { cpu_avg: 60 }), vm("v2", 50, 1024)])] });
    const h = H(r, "h");
    expect({ load: h.load, load_avg: h.load_avg, mem_used: h.mem_used, mem_free: h.mem_free, vm_count: h.vm_count, busy: h.busy }).toEqual({
      load: 37.5,
      load_avg: 27.5,
      mem_used: 3072,
      mem_free: 5120,
      vm_count: 2,
      busy: false,
    });
    expect(V(r, "v1").load).toBe(25);
    expect(V(r, "v1").cpu_avg).toBe(60);
    expect(V(r, "v2").cpu_avg).toBe(50);
    expect(V(r, "v1").migrating).toBe(false);
  });

  it("a planned migration moves the VM for every later read", () => {
    const r = round(base());
    const a = H(r, "a");
    const b = H(r, "b");
    const heldBefore = a.vms;
    expect(r.migrate(V(r, "a1"), b, origin)).toBe(true);
    expect(r.result().actions).toEqual([{ kind: "migrate", vm: "a1", from: "a", to: "b", rule: "t.r" }]);
    expect(V(r, "a1").host).toBe(b);
    expect(V(r, "a1").load).toBe(50);
    expect(a.vms.map((v) => v.name)).toEqual(["a2", "a3"]);
    expect(b.vms.map((v) => v.name)).toEqual(["a1", "b1"]);
    expect([a.load, a.mem_used, a.mem_free, a.vm_count]).toEqual([20, 2048, 14336, 2]);
    expect([b.load, b.mem_used, b.mem_free, b.vm_count]).toEqual([60, 3072, 1024, 2]);
    expect([a.busy, b.busy, H(r, "c").busy]).toEqual([true, true, false]);
    // A list read before the move stays what it was (lists are replaced, not mutated).
    expect(heldBefore.map((v) => v.name)).toEqual(["a1", "a2", "a3"]);
    // The list of all VMs keeps name order and indexes; the VM object is the same one.
    expect(r.vms.map((v) => v.name)).toEqual(["a1", "a2", "a3", "b1", "c1", "m1", "m2", "s1", "x1"]);
    expect(r.vms.every((v, i) => v.index === i)).toBe(true);
    expect(b.vms[0]).toBe(V(r, "a1"));
  });

  it("in-flight migrations mark the VM migrating and both hosts busy", () => {
    const r = round(base({ migrating: [{ vm: "m1", from: "m", to: "c" }] }));
    expect(V(r, "m1").migrating).toBe(true);
    expect(V(r, "m2").migrating).toBe(false);
    expect([H(r, "m").busy, H(r, "c").busy, H(r, "a").busy]).toEqual([true, true, false]);
  });
});

describe("refusals", () => {
  const cases: { name: string; json?: Record<string, unknown>; over?: Record<string, unknown>; before?: [string, string][]; vm: string; to: string; reason: string }[] = [
    { name: "already has an action", before: [["a1", "b"]], vm: "a1", to: "c", reason: "already has an action this round: migrate from a to b (t.r)" },
    { name: "pinned", vm: "a3", to: "b", reason: "vm is pinned" },
    { name: "migrating", json: { migrating: [{ vm: "a2", from: "a", to: "c" }] }, vm: "a2", to: "b", reason: "vm is migrating from a to c" },
    { name: "cooldown", json: { recent: [{ vm: "a1", seconds_ago: 20 }] }, vm: "a1", to: "b", reason: "migrated 20 s ago, cooldown is 60 s" },
    { name: "source down", vm: "x1", to: "b", reason: "source x is down: its VMs are restarted by recover, not migrated" },
    { name: "destination not up", vm: "a1", to: "m", reason: "destination m is not up (maintenance)" },
    { name: "destination down", vm: "a1", to: "x", reason: "destination x is not up (down)" },
    { name: "destination is the source", vm: "a1", to: "a", reason: "destination is the source: a1 already runs on a" },
    { name: "memory", vm: "a1", to: "s", reason: "destination lacks memory: needs 2048 MiB, has 512" },
    {
      name: "source at max_per_host",
      over: { max_per_host: 1 },
      before: [["a1", "b"]],
      vm: "a2",
      to: "c",
      reason: "source a already takes part in 1 migration or restart (max_per_host is 1)",
    },
    {
      name: "destination at max_per_host",
      over: { max_per_host: 1 },
      before: [["a1", "c"]],
      vm: "b1",
      to: "c",
      reason: "destination c already takes part in 1 migration or restart (max_per_host is 1)",
    },
    {
      name: "destination at max_per_host, counting an in-flight migration",
      json: { migrating: [{ vm: "m1", from: "m", to: "c" }] },
      before: [["a1", "c"]],
      vm: "b1",
      to: "c",
      reason: "destination c already takes part in 2 migrations or restarts (max_per_host is 2)",
    },
    {
      name: "round full",
      over: { max_per_round: 1 },
      before: [["a1", "b"]],
      vm: "c1",
      to: "a",
      reason: "round is full: 1 action planned (max_per_round is 1)",
    },
  ];
  for (const c of cases) {
    it(`refuses: ${c.name}`, () => {
      const r = round(base(c.json ?? {}), c.over ?? {});
      for (const [v, h] of c.before ?? []) expect(r.migrate(V(r, v), H(r, h), origin)).toBe(true);
      const vmView = V(r, c.vm);
      const to = H(r, c.to);
      expect(r.refusal(vmView, to)).toBe(c.reason);
      expect(r.canMove(vmView, to)).toBe(false);
      const from = vmView.host.name;
      expect(r.migrate(vmView, to, origin)).toBe(false);
      expect(r.result().skipped).toEqual([{ kind: "migrate", vm: c.vm, from, to: c.to, rule: "t.r", reason: c.reason }]);
      expect(r.result().actions).toHaveLength((c.before ?? []).length);
    });
  }

  it("accepts a VM whose cooldown has just run out", () => {
    const r = round(base({ recent: [{ vm: "a1", seconds_ago: 60 }] }));
    expect(r.refusal(V(r, "a1"), H(r, "b"))).toBeNull();
    expect(r.canMove(V(r, "a1"), H(r, "b"))).toBe(true);
  });

  it("names the constraint that refuses, and checks constraints last", () => {
    let calls = 0;
    const noB: PlacementConstraint = {
      name: "p.no_b",
      allows: (_vm, h) => {
        calls++;
        return h.name !== "b";
      },
    };
    const r = round(base(), {}, [noB]);
    expect(r.refusal(V(r, "a1"), H(r, "m"))).toBe("destination m is not up (maintenance)");
    expect(calls).toBe(0);
    expect(r.migrate(V(r, "a1"), H(r, "b"), origin)).toBe(false);
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "a1", from: "a", to: "b", rule: "t.r", reason: "breaks constraint p.no_b", constraint: "p.no_b" },
    ]);
    expect(r.migrate(V(r, "a1"), H(r, "c"), origin)).toBe(true);
  });

  it("reports the first refusal in the documented order", () => {
    const r = round(base({ recent: [{ vm: "a3", seconds_ago: 1 }] }));
    // pinned comes before cooldown and before the destination's state.
    expect(r.refusal(V(r, "a3"), H(r, "x"))).toBe("vm is pinned");
    // the destination's state comes before memory.
    expect(r.refusal(V(r, "a1"), H(r, "x"))).toBe("destination x is not up (down)");
  });

  it("alerts do not count toward max_per_round, migrations do", () => {
    const r = round(base(), { max_per_round: 2 });
    r.alert("one", origin);
    r.alert("two", origin);
    r.alert("three", origin);
    expect(r.full).toBe(false);
    expect(r.migrate(V(r, "a1"), H(r, "b"), origin)).toBe(true);
    expect(r.full).toBe(false);
    expect(r.migrate(V(r, "c1"), H(r, "a"), origin)).toBe(true);
    expect(r.full).toBe(true);
    expect(r.canMove(V(r, "a2"), H(r, "c"))).toBe(false);
    expect(r.result().actions.map((a) => a.kind)).toEqual(["alert", "alert", "alert", "migrate", "migrate"]);
  });
});

describe("skip, error and result", () => {
  it("appends skips and errors in order and returns copies", () => {
    const r = round(base());
    r.skip({ kind: "migrate", rule: "t.r", reason: "vm is none" });
    r.error({ rule: "t.r", message: "script f: boom" });
    r.alert("hello", origin);
    const first = r.result();
    expect(first).toEqual({
      actions: [{ kind: "alert", message: "hello", rule: "t.r" }],
      skipped: [{ kind: "migrate", rule: "t.r", reason: "vm is none" }],
      errors: [{ rule: "t.r", message: "script f: boom" }],
    });
    r.alert("again", origin);
    expect(first.actions).toHaveLength(1);
    expect(r.result().actions).toHaveLength(2);
  });
});

describe("explain", () => {
  it("never calls the thunk when explaining is off", () => {
    let calls = 0;
    const o = { rule: "t.r", explain: () => (calls++, { binding: {}, lets: {} }) };
    const r = round(base());
    r.migrate(V(r, "a1"), H(r, "b"), o);
    r.migrate(V(r, "a3"), H(r, "b"), o);
    r.evacuate(H(r, "m"), o);
    r.recover(H(r, "x"), o);
    r.alert("hi", o);
    expect(calls).toBe(0);
    for (const a of r.result().actions) expect("explain" in a).toBe(false);
    for (const s of r.result().skipped) expect("explain" in s).toBe(false);
  });

  it("attaches the explanation to every action and skip when on", () => {
    const explanation = { binding: { src: "a" }, lets: { want: 12 } };
    let calls = 0;
    const o = { rule: "t.r", explain: () => (calls++, explanation) };
    const r = round(base(), { explain: true });
    r.migrate(V(r, "a1"), H(r, "b"), o);
    r.migrate(V(r, "a3"), H(r, "b"), o);
    r.alert("hi", o);
    const res = r.result();
    expect(res.actions).toEqual([
      { kind: "migrate", vm: "a1", from: "a", to: "b", rule: "t.r", explain: explanation },
      { kind: "alert", message: "hi", rule: "t.r", explain: explanation },
    ]);
    expect(res.skipped).toEqual([{ kind: "migrate", vm: "a3", from: "a", to: "b", rule: "t.r", reason: "vm is pinned", explain: explanation }]);
    expect(calls).toBe(3);
  });

  it("asks once per evacuate for all the actions it plans, and not at all when it plans nothing", () => {
    const explanation = { binding: { host: "m" }, lets: {} };
    let calls = 0;
    const o = { rule: "t.r", explain: () => (calls++, explanation) };
    const r = round({ hosts: [host("e", "maintenance", 4, 4096, []), ...base().hosts] }, { explain: true, max_per_host: 5 });
    r.evacuate(H(r, "e"), o);
    expect(calls).toBe(0);
    r.evacuate(H(r, "m"), o);
    expect(calls).toBe(1);
    expect(r.result().actions.map((a) => [a.kind === "alert" ? "" : a.vm, a.explain])).toEqual([
      ["m1", explanation],
      ["m2", explanation],
    ]);
  });
});
