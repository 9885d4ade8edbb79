/**
 * Measured host facts (SPEC 1): `other_cpu` and `mem_avail` from the agents,
 * `used` and the `mem_free` they bound, in the projected cluster and in a
 * policy (policies/examples/cslb-used.policy).
 */
import { describe, expect, it } from "vitest";
import { validateFacts } from "../../../engine/plan/facts.js";
import { defaultPolicySources, host as scenarioHost, planWith, policySourcesOf } from "../../scenarios/helpers.js";
import { H, V, host, origin, round, vm } from "./round-helpers.js";

describe("measured host facts in the projected cluster", () => {
  it("used = (sum(vm.cpu) + other_cpu) / cpus; mem_free = min(mem − mem_used, mem_avail); both follow planned moves", () => {
    const r = round({
      hosts: [
        { ...host("a", "up", 4, 16384, [vm("a1", 100, 2048), vm("a2", 60, 1024)]), other_cpu: 140, mem_avail: 2048, measured: ["cpu", "other_cpu", "mem_avail"] },
        host("b", "up", 4, 8192, [vm("b1", 20, 1024)]),
      ],
    });
    const a = H(r, "a");
    const b = H(r, "b");
    expect({ load: a.load, used: a.used, other_cpu: a.other_cpu, mem_used: a.mem_used, mem_avail: a.mem_avail, mem_free: a.mem_free }).toEqual({
      load: 40,
      used: 75,
      other_cpu: 140,
      mem_used: 3072,
      // 16384 − 3072 would be 13312 free by the declared memory; the host measured only 2048.
      mem_avail: 2048,
      mem_free: 2048,
    });
    // Not measured: used is load, other_cpu 0, mem_avail what the declared memory leaves.
    expect({ used: b.used, other_cpu: b.other_cpu, mem_avail: b.mem_avail, mem_free: b.mem_free }).toEqual({ used: 5, other_cpu: 0, mem_avail: 7168, mem_free: 7168 });
    // a2 leaves a: its 1024 MiB come back to what a has available, its CPU leaves used.
    expect(r.migrate(V(r, "a2"), b, origin)).toBe(true);
    expect([a.used, a.mem_avail, a.mem_free]).toEqual([60, 3072, 3072]);
    // and moving it back takes them again.
    expect(r.migrate(V(r, "b1"), a, origin)).toBe(true);
    expect([a.used, a.mem_avail, a.mem_free]).toEqual([65, 2048, 2048]);
  });

  it("a host really short of memory is not chosen, whatever it declares", () => {
    const r = round({ hosts: [host("a", "up", 4, 16384, [vm("a1", 100, 2048)]), { ...host("b", "up", 4, 65536, []), mem_avail: 1024 }] });
    expect(r.migrate(V(r, "a1"), H(r, "b"), origin)).toBe(false);
    expect(r.result().skipped).toEqual([expect.objectContaining({ vm: "a1", to: "b" })]);
  });

  it("bad measured facts are refused with their path", () => {
    const r = validateFacts({ hosts: [{ ...host("a", "up", 4, 1024, []), other_cpu: -1, mem_avail: "lots", measured: ["cpu", "load", "cpu"] }] });
    expect(r.ok ? [] : r.errors).toEqual([
      { path: "hosts[0].other_cpu", message: "must be a finite number ≥ 0" },
      { path: "hosts[0].mem_avail", message: "must be a finite number ≥ 0" },
      { path: "hosts[0].measured[1]", message: '"load" is not a measurable field: must be a list of field names (cpu, other_cpu, mem_avail)' },
      { path: "hosts[0].measured[2]", message: "cpu is listed twice" },
    ]);
  });
});

describe("policies/examples/cslb-used.policy", () => {
  // h1: VMs 160 of 400 (load 40) but 200 more outside them (used 90); h2 load = used 50; h3 10.
  const facts = {
    hosts: [
      scenarioHost("h1", 4, 16384, [["a", 100], ["b", 60]], { other_cpu: 200, measured: ["cpu", "other_cpu"] }),
      scenarioHost("h2", 4, 16384, [["c", 100], ["d", 100]]),
      scenarioHost("h3", 4, 16384, [["e", 40]]),
    ],
  };

  it("moves work off the host that is busy outside its VMs, where the default policy sees only VM load", async () => {
    const used = await planWith(await policySourcesOf(["policies/examples/cslb-used.policy"]), facts);
    // mean used 50, band 40..60: h1 heavy, h3 light; want (50 − 10) × 4 = 160 → a (100).
    expect(used.groups.cslb_used).toEqual({ h1: "heavy", h2: "moderate", h3: "light" });
    expect(used.actions).toEqual([{ kind: "migrate", vm: "a", from: "h1", to: "h3", rule: "cslb_used.balance" }]);
    // The default policy: loads 40, 50, 10, mean 33.3: h2 is the heavy one.
    const plain = await planWith(await defaultPolicySources(), facts);
    expect(plain.actions).toEqual([{ kind: "migrate", vm: "c", from: "h2", to: "h3", rule: "cslb.balance" }]);
  });

  it("without other_cpu it plans what the default policy plans", async () => {
    const unmeasured = { hosts: facts.hosts.map((h) => ({ ...h, other_cpu: undefined, measured: undefined })) };
    const used = await planWith(await policySourcesOf(["policies/examples/cslb-used.policy"]), unmeasured);
    const plain = await planWith(await defaultPolicySources(), unmeasured);
    expect(used.actions.map((a) => ({ ...a, rule: "" }))).toEqual(plain.actions.map((a) => ({ ...a, rule: "" })));
  });
});
