/**
 * Expression semantics of compiled policies, table-driven: each case is a
 * top-level `let` whose value the plan reports under `values` (SPEC 3), over
 * one small snapshot. Covers arithmetic, none-propagation (SPEC 2.5),
 * three-valued logic, bindings, aggregates, picks and their tie-breaks.
 */
import { describe, expect, it } from "vitest";
import { planWith, host } from "../scenarios/helpers.js";

// h1: 2 CPUs, a 50 + b 30 → load 40, rack r1; h2: 4 CPUs, c 100 → 25; h3: down, 1 CPU, d 10 → 10.
const FACTS = {
  hosts: [
    host("h1", 2, 8192, [["a", 50], ["b", 30, 1024, { labels: { tier: "web" } }]], { labels: { rack: "r1" } }),
    host("h2", 4, 8192, [["c", 100, 2048, { pinned: true }]]),
    host("h3", 1, 8192, [["d", 10]], { state: "down" }),
  ],
};

async function valueOf(expr: string, extra = ""): Promise<unknown> {
  const text = `policy t\n${extra}\nlet x = ${expr}\n`;
  const plan = await planWith([{ file: "t.policy", text }], FACTS);
  return plan.values["t"]!["x"];
}

const NOWHERE = "(pick host where host.cpus > 100 by host.load)";

const CASES: [string, unknown][] = [
  ["1 + 2 * 3", 7],
  ["10 / 4", 2.5],
  ["10 % 4", 2],
  ["10 / 0", null],
  // Past the largest number is none, like division by zero, never Infinity.
  ["1e308 * 10", null],
  ["1e308 + 1e308", null],
  ["-1e308 - 1e308", null],
  ["1e308 / 0.1", null],
  ["sum(1e308 for host)", null],
  ["avg(1e308 for host)", null],
  ["1e308 * 10 ?? 7", 7],
  ["-(2 - 5)", 3],
  ["5m", 300],
  ["none ?? 4", 4],
  ["3 ?? 4", 3],
  [`${NOWHERE}.load`, null],
  [`${NOWHERE}.load + 1`, null],
  [`abs(${NOWHERE}.load)`, null],
  [`${NOWHERE}.load > 1`, false],
  [`${NOWHERE}.load < 1`, false],
  [`${NOWHERE} == none`, true],
  [`${NOWHERE} != none`, false],
  // Any other comparison with none is false, `!=` included (SPEC 2.5).
  [`${NOWHERE}.load != 1`, false],
  [`(pick vm where vm.name == "b" by vm.cpu).labels.nope != "db"`, false],
  [`(pick vm where vm.name == "b" by vm.cpu).labels.nope == ${NOWHERE}.name`, false],
  [`(pick vm where vm.name == "b" by vm.cpu).labels.nope != ${NOWHERE}.name`, false],
  [`(pick vm where vm.name == "b" by vm.cpu).labels.tier != "db"`, true],
  [`(pick vm where vm.name == "b" by vm.cpu).labels.nope == (none)`, true],
  ["none == none", true],
  [`${NOWHERE}.name ?? "nobody"`, "nobody"],
  ["pick host by host.load desc", "h1"],
  ["pick host by host.load", "h3"],
  ["pick host by 1", "h1"],
  ["pick host by 1 desc", "h1"],
  ["pick vm by vm.mem desc", "c"],
  ["count(host)", 3],
  ["count(host where host.state == up)", 2],
  ["count(host where host.state in [down, maintenance])", 1],
  ["exists host where host.load > 30", true],
  ["exists host where host.load > 40", false],
  ["no vm where vm.pinned", false],
  ["no vm in (pick host by host.load desc).vms where vm.pinned", true],
  ["sum(vm.cpu for vm)", 190],
  ["avg(host.load for host where host.state == up)", 32.5],
  ["min(host.load for host)", 10],
  ["max(host.load for host)", 40],
  ["median(host.load for host)", 25],
  ["avg(host.load for host where host.cpus > 100)", null],
  ["sum(host.load for host where host.cpus > 100)", 0],
  ["(pick host by host.load desc).labels.rack", "r1"],
  ["(pick host by host.load desc).labels.nope", null],
  ["(pick vm by vm.cpu asc).host.name", "h3"],
  ["(pick vm where vm.name == \"b\" by vm.cpu).load", 15],
  ["(pick vm where vm.name == \"b\" by vm.cpu).labels.tier", "web"],
  ["max(2, 7, 3)", 7],
  ["clamp(12, 0, 10)", 10],
  // h1 and h3 have no VM over 60: `not none` is none, so the where does not hold;
  // h2's c is pinned: `not true` is false. `or`/`and` are three-valued the same way.
  ["count(host where not (pick vm in host.vms where vm.cpu > 60 by vm.cpu).pinned)", 0],
  ["count(host where (pick vm in host.vms where vm.cpu > 60 by vm.cpu).pinned or host.state == down)", 2],
  ["count(host where (pick vm in host.vms where vm.cpu > 60 by vm.cpu).pinned and host.state == up)", 1],
];

describe("compiled expressions", () => {
  for (const [expr, expected] of CASES) {
    it(`${expr} = ${JSON.stringify(expected)}`, async () => {
      expect(await valueOf(expr)).toEqual(expected);
    });
  }

  it("stddev is the population standard deviation", async () => {
    // loads 40, 25, 10: mean 25, variance (225 + 0 + 225) / 3 = 150
    expect(await valueOf("stddev(host.load for host)")).toBeCloseTo(Math.sqrt(150), 12);
  });

  it("reads params, lets and groups; host.group is the classification at the start of the round", async () => {
    const extra = "param limit = 30\ngroup hot when host.load > limit\ngroup cool otherwise\n";
    expect(await valueOf("count(hot host)", extra)).toBe(1);
    expect(await valueOf("(pick host by host.load asc).group", extra)).toBe("cool");
  });

  it("reports params and lets in declaration order", async () => {
    const text = "policy t\nparam band = 10\nlet mean = 20\nparam p2 = true\nlet s = \"x\"\n";
    const plan = await planWith([{ file: "t.policy", text }], FACTS);
    expect(JSON.stringify(plan.values)).toBe('{"t":{"band":10,"mean":20,"p2":true,"s":"x"}}');
  });
});
