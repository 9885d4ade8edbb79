import { describe, expect, it } from "vitest";
import type { PlacementConstraint } from "../../../grammar/view.js";
import { H, V, host, origin, round, vm } from "./round-helpers.js";

/**
 * m (maintenance) holds big 4096, mid1 2048, mid2 2048, tiny 512.
 * u1 load 20, u2 load 10, u3 load 10 (2 cpus): u2 wins the tie with u3 by name.
 */
function drain(extra: Record<string, unknown> = {}, mVms = [vm("tiny", 1, 512), vm("mid2", 5, 2048), vm("big", 10, 4096), vm("mid1", 20, 2048)]) {
  return {
    hosts: [
      host("m", "maintenance", 4, 16384, mVms),
      host("u1", "up", 4, 16384, [vm("u1a", 80, 1024)]),
      host("u2", "up", 4, 16384, [vm("u2a", 40, 1024)]),
      host("u3", "up", 2, 16384, [vm("u3a", 20, 1024)]),
    ],
    ...extra,
  };
}

const moves = (r: ReturnType<typeof round>) => r.result().actions.map((a) => (a.kind === "alert" ? `alert ${a.message}` : `${a.kind} ${a.vm} ${a.from}->${a.to}`));

describe("evacuate", () => {
  it("moves the largest VMs first, each to the least loaded up host, seeing earlier moves", () => {
    const r = round(drain(), { max_per_host: 10 });
    r.evacuate(H(r, "m"), origin);
    // big -> u2 (10, beats u3 by name) = 12.5; mid1 -> u3 (10) = 20; mid2 -> u2 (12.5) = 13.75; tiny -> u2 (13.75) = 14
    expect(moves(r)).toEqual(["migrate big m->u2", "migrate mid1 m->u3", "migrate mid2 m->u2", "migrate tiny m->u2"]);
    expect(r.result().skipped).toEqual([]);
    expect(H(r, "m").vm_count).toBe(0);
    expect(H(r, "u2").load).toBe(14);
    expect(H(r, "u3").load).toBe(20);
  });

  it("lets only max_per_host VMs leave the source per round", () => {
    const r = round(drain());
    r.evacuate(H(r, "m"), origin);
    expect(moves(r)).toEqual(["migrate big m->u2", "migrate mid1 m->u3"]);
    const reason = "source m already takes part in 2 migrations or restarts (max_per_host is 2)";
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "mid2", from: "m", rule: "t.r", reason },
      { kind: "migrate", vm: "tiny", from: "m", rule: "t.r", reason },
    ]);
  });

  it("tries the next best host when a constraint refuses the best, and lists the refusal", () => {
    const notU2: PlacementConstraint = { name: "p.not_u2", allows: (v, h) => !(v.name === "big" && h.name === "u2") };
    const r = round(drain(), { max_per_host: 10 }, [notU2]);
    r.evacuate(H(r, "m"), origin);
    // big -> u3 (15); mid1 -> u2 (10) = 15; mid2 -> u2 (15, beats u3 by name) = 16.25; tiny -> u3 (15) = 15.5
    expect(moves(r)).toEqual(["migrate big m->u3", "migrate mid1 m->u2", "migrate mid2 m->u2", "migrate tiny m->u3"]);
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "big", from: "m", to: "u2", rule: "t.r", reason: "breaks constraint p.not_u2", constraint: "p.not_u2" },
    ]);
  });

  it("lists constraint refusals best first, at most three, and sums up the rest", () => {
    const hosts = [host("src", "maintenance", 4, 65536, [vm("v", 10, 1024)])];
    for (let i = 0; i < 6; i++) hosts.push(host(`h${i}`, "up", 1, 65536, [vm(`w${i}`, 10 * (6 - i), 1)]));
    // h5 is least loaded (10), h0 most (60); only h0 is allowed.
    const onlyH0: PlacementConstraint = { name: "p.only_h0", allows: (_v, h) => h.name === "h0" };
    const r = round({ hosts }, {}, [onlyH0]);
    r.evacuate(H(r, "src"), origin);
    expect(moves(r)).toEqual(["migrate v src->h0"]);
    const refused = (to: string) => ({ kind: "migrate", vm: "v", from: "src", to, rule: "t.r", reason: "breaks constraint p.only_h0", constraint: "p.only_h0" });
    expect(r.result().skipped).toEqual([
      refused("h5"),
      refused("h4"),
      refused("h3"),
      { kind: "migrate", vm: "v", from: "src", rule: "t.r", reason: "2 more destinations with lower load refused by constraints" },
    ]);
  });

  it("caps the list when every destination breaks a constraint", () => {
    const hosts = [host("src", "maintenance", 4, 65536, [vm("v", 10, 1024)])];
    for (let i = 0; i < 6; i++) hosts.push(host(`h${i}`, "up", 1, 65536, [vm(`w${i}`, 10 * (6 - i), 1)]));
    const none: PlacementConstraint = { name: "p.none", allows: () => false };
    const r = round({ hosts }, {}, [none]);
    r.evacuate(H(r, "src"), origin);
    expect(r.result().actions).toEqual([]);
    expect(r.result().skipped.map((s) => [s.to ?? "-", s.reason])).toEqual([
      ["h5", "breaks constraint p.none"],
      ["h4", "breaks constraint p.none"],
      ["h3", "breaks constraint p.none"],
      ["-", "3 more destinations refused by constraints"],
      ["-", "no destination: of 6 other up hosts, 6 break constraint p.none"],
    ]);
  });

  it("says why no destination fits", () => {
    const r = round(drain({}, [vm("huge", 1, 20000)]));
    r.evacuate(H(r, "m"), origin);
    expect(r.result().actions).toEqual([]);
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "huge", from: "m", rule: "t.r", reason: "no destination: no up host has 20000 MiB free" },
    ]);
  });

  it("sums up mixed reasons when no destination fits", () => {
    const refuseU3: PlacementConstraint = { name: "p.c", allows: (_v, h) => h.name !== "u3" };
    const json = {
      hosts: [
        host("m", "maintenance", 4, 16384, [vm("v", 1, 4096), vm("w", 1, 10)]),
        host("u1", "up", 4, 2048, []),
        host("u2", "up", 4, 16384, [vm("u2a", 1, 1)]),
        host("u3", "up", 4, 16384, []),
        host("d", "down", 4, 16384, [vm("d1", 1, 1)]),
      ],
      migrating: [{ vm: "u2a", from: "u2", to: "u1" }],
    };
    const r = round(json, { max_per_host: 1 }, [refuseU3]);
    r.evacuate(H(r, "m"), origin);
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "v", from: "m", to: "u3", rule: "t.r", reason: "breaks constraint p.c", constraint: "p.c" },
      {
        kind: "migrate",
        vm: "v",
        from: "m",
        rule: "t.r",
        reason: "no destination: of 3 other up hosts, 1 lacks 4096 MiB free, 1 is at max_per_host 1, 1 breaks constraint p.c",
      },
      // w (10 MiB) fits on u1, but u1 is at its limit too (the in-flight migration): nothing moves.
      { kind: "migrate", vm: "w", from: "m", to: "u3", rule: "t.r", reason: "breaks constraint p.c", constraint: "p.c" },
      { kind: "migrate", vm: "w", from: "m", rule: "t.r", reason: "no destination: of 3 other up hosts, 2 are at max_per_host 1, 1 breaks constraint p.c" },
    ]);
    expect(r.result().actions).toEqual([]);
  });

  it("skips pinned, migrating, cooling-down and already planned VMs with their reasons", () => {
    const json = drain(
      { migrating: [{ vm: "mig", from: "m", to: "u1" }], recent: [{ vm: "cool", seconds_ago: 5 }] },
      [vm("pin", 1, 4096, { pinned: true }), vm("mig", 1, 3072), vm("cool", 1, 2048), vm("ok", 1, 1024), vm("done", 1, 512)],
    );
    const r = round(json, { max_per_host: 10 });
    expect(r.migrate(V(r, "done"), H(r, "u1"), origin)).toBe(true);
    r.evacuate(H(r, "m"), origin);
    expect(moves(r)).toEqual(["migrate done m->u1", "migrate ok m->u2"]);
    expect(r.result().skipped).toEqual([
      { kind: "migrate", vm: "pin", from: "m", rule: "t.r", reason: "vm is pinned" },
      { kind: "migrate", vm: "mig", from: "m", rule: "t.r", reason: "vm is migrating from m to u1" },
      { kind: "migrate", vm: "cool", from: "m", rule: "t.r", reason: "migrated 5 s ago, cooldown is 60 s" },
    ]);
  });

  it("stops when the round is full", () => {
    const r = round(drain(), { max_per_host: 10, max_per_round: 1 });
    r.evacuate(H(r, "m"), origin);
    expect(moves(r)).toEqual(["migrate big m->u2"]);
    expect(r.result().skipped.map((s) => [s.vm, s.reason])).toEqual([
      ["mid1", "round is full: 1 action planned (max_per_round is 1)"],
      ["mid2", "round is full: 1 action planned (max_per_round is 1)"],
      ["tiny", "round is full: 1 action planned (max_per_round is 1)"],
    ]);
  });

  it("can empty an up host (consolidation) and refuses a down one", () => {
    const r = round({
      hosts: [host("a", "up", 4, 8192, [vm("a1", 10, 100)]), host("b", "up", 4, 8192, [vm("b1", 90, 100)]), host("x", "down", 4, 8192, [vm("x1", 1, 1)])],
    });
    r.evacuate(H(r, "a"), origin);
    r.evacuate(H(r, "x"), origin);
    expect(moves(r)).toEqual(["migrate a1 a->b"]);
    expect(r.result().skipped).toEqual([
      { kind: "evacuate", host: "x", rule: "t.r", reason: "host x is down: its VMs are restarted by recover, not migrated" },
    ]);
  });
});

/**
 * x is down: xa 2048 pinned, xb 1024, xc 1024 (migrating off x), xd 512 (migrating from u2 onto x).
 * u1 load 10, u2 load 20; the in-flight migrations make u1 and u2 take part in one each.
 */
function lost() {
  return {
    hosts: [
      host("x", "down", 4, 8192, [vm("xd", 1, 512), vm("xc", 5, 1024), vm("xb", 20, 1024), vm("xa", 10, 2048, { pinned: true })]),
      host("u1", "up", 4, 16384, [vm("u1a", 40, 1024)]),
      host("u2", "up", 4, 16384, [vm("u2a", 80, 1024)]),
    ],
    migrating: [
      { vm: "xc", from: "x", to: "u1" },
      { vm: "xd", from: "u2", to: "x" },
    ],
  };
}

describe("recover", () => {
  it("restarts every VM of a down host, ignoring pinned, the lost source's limit and a migration off it", () => {
    const r = round(lost(), { max_per_host: 3 });
    r.recover(H(r, "x"), origin);
    // xa -> u1 (10) = 12.5; xb -> u1 (12.5) = 17.5, u1 now at 3; xc -> u2 (20) = 21.25
    expect(moves(r)).toEqual(["restart xa x->u1", "restart xb x->u1", "restart xc x->u2"]);
    expect(r.result().actions[0]).toEqual({ kind: "restart", vm: "xa", from: "x", to: "u1", rule: "t.r" });
    expect(r.result().skipped).toEqual([
      { kind: "restart", vm: "xd", from: "x", rule: "t.r", reason: "vm is migrating from u2 to x: it may still run on u2, so it is not restarted" },
    ]);
    expect(V(r, "xa").host.name).toBe("u1");
    expect(H(r, "x").busy).toBe(true);
    expect(H(r, "x").vm_count).toBe(1);
  });

  it("plans one alert instead of restarts while the host is not fenced", () => {
    const r = round(lost(), { requireFencing: true });
    r.recover(H(r, "x"), origin);
    r.recover(H(r, "x"), origin);
    expect(r.result().actions).toEqual([{ kind: "alert", message: "host x is down and not fenced: 4 VMs wait for fencing", rule: "t.r" }]);
    expect(r.full).toBe(false);
    expect(H(r, "x").vm_count).toBe(4);
  });

  it("restarts once the host is fenced", () => {
    const r = round(lost(), { requireFencing: true, fenced: new Set(["x"]), max_per_host: 3 });
    r.recover(H(r, "x"), origin);
    expect(moves(r)).toEqual(["restart xa x->u1", "restart xb x->u1", "restart xc x->u2"]);
  });

  it("refuses to recover a host that is not down", () => {
    const r = round(lost());
    r.recover(H(r, "u1"), origin);
    expect(r.result()).toEqual({
      actions: [],
      skipped: [{ kind: "recover", host: "u1", rule: "t.r", reason: "host u1 is up, not down: recover restarts the VMs of a lost host only" }],
      errors: [],
    });
  });

  it("counts restarts toward max_per_round and the destination's max_per_host", () => {
    const r = round(lost(), { max_per_round: 1 });
    r.recover(H(r, "x"), origin);
    expect(moves(r)).toEqual(["restart xa x->u1"]);
    expect(r.full).toBe(true);
    expect(r.result().skipped.map((s) => [s.vm, s.reason])).toEqual([
      ["xb", "round is full: 1 action planned (max_per_round is 1)"],
      ["xc", "round is full: 1 action planned (max_per_round is 1)"],
      ["xd", "vm is migrating from u2 to x: it may still run on u2, so it is not restarted"],
    ]);
  });
});

describe("determinism", () => {
  it("gives the same result whatever order the snapshot lists hosts and VMs in", () => {
    const run = (json: ReturnType<typeof drain>) => {
      const r = round(json, { max_per_host: 10 });
      r.evacuate(H(r, "m"), origin);
      r.migrate(V(r, "u1a"), H(r, "u3"), origin);
      return JSON.stringify(r.result());
    };
    const a = drain();
    const b = { ...a, hosts: a.hosts.slice().reverse().map((h) => ({ ...h, vms: h.vms.slice().reverse() })) };
    expect(run(b)).toBe(run(a));
    expect(run(a)).toBe(run(drain()));
  });
});
