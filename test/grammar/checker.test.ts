import { describe, expect, it } from "vitest";
import { check, checkTexts, rows, type Row } from "./checker-helpers.js";

/** A header shared by most cases: a policy with a param, lets and groups, so cases stay short. */
const HEAD = `policy p
param band = 10
let mean = avg(host.load for host)
group heavy when host.load > mean + band
group light when host.load < mean - band
`;

/** Errors only; each case's source starts at line 6 after HEAD. */
const ERRORS: { name: string; source: string; expected: Row[] }[] = [
  {
    name: "unknown field with a suggestion",
    source: "rule r for each heavy host when host.lod > 1 then evacuate host",
    expected: [["T202", 6, 38, "unknown field `lod` of host; did you mean `load`?"]],
  },
  {
    name: "unknown vm field with a suggestion",
    source: "rule r for each vm when vm.cpus > 1 then migrate vm to vm.host",
    expected: [["T202", 6, 28, "unknown field `cpus` of vm; did you mean `cpu`?"]],
  },
  {
    name: "unknown name with a suggestion (a let)",
    source: "rule r for each heavy host when host.load > meen then evacuate host",
    expected: [["T201", 6, 45, "unknown name `meen`; did you mean `mean`?"]],
  },
  {
    name: "unknown state with a suggestion",
    source: "rule r for each host where host.state == dwn then recover host",
    expected: [["T201", 6, 42, "unknown name `dwn`; did you mean `down`?"]],
  },
  {
    name: "unknown param-like name with no near miss",
    source: "rule r for each host where host.load > threshold then evacuate host",
    expected: [["T201", 6, 40, "unknown name `threshold`"]],
  },
  {
    name: "`host` outside any binding",
    source: "rule r when host.load > 1 then alert \"x\"",
    expected: [["T201", 6, 13, "unknown name `host`"]],
  },
  {
    name: "unknown group in a binding with a suggestion",
    source: "rule r for each hevy host then evacuate host",
    expected: [["T203", 6, 17, "unknown group `hevy` in policy p; did you mean `heavy`?"]],
  },
  {
    name: "unknown function with a suggestion",
    source: "rule r for each heavy host when absolute(host.load) > 1 then evacuate host",
    expected: [["T204", 6, 33, "unknown function `absolute`"]],
  },
  {
    name: "unknown function, near miss",
    source: "rule r for each heavy host when clmp(host.load, 0, 1) > 1 then evacuate host",
    expected: [["T204", 6, 33, "unknown function `clmp`; did you mean `clamp`?"]],
  },
  {
    name: "wrong number of arguments",
    source: "rule r for each heavy host when clamp(host.load, 0) > 1 then evacuate host",
    expected: [["T205", 6, 33, "`clamp` takes 3 arguments, got 2"]],
  },
  {
    name: "min needs at least two arguments",
    source: "rule r for each heavy host when min(host.load) > 1 then evacuate host",
    expected: [["T205", 6, 33, "`min` takes 2 or more arguments, got 1"]],
  },
  {
    name: "argument of the wrong type",
    source: "rule r for each heavy host when abs(host) > 1 then evacuate host",
    expected: [["T206", 6, 37, "argument 1 of `abs` must be a number, got a host"]],
  },
  {
    name: "can_move with its arguments swapped",
    source: "rule r for each heavy host let v = pick vm in host.vms where can_move(host, vm) by vm.cpu then migrate v to host",
    expected: [
      ["T206", 6, 71, "argument 1 of `can_move` must be a vm, got a host"],
      ["T206", 6, 77, "argument 2 of `can_move` must be a host, got a vm"],
    ],
  },
  {
    name: "arithmetic on a host",
    source: "rule r for each heavy host when host + 1 > 2 then evacuate host",
    expected: [["T207", 6, 33, "cannot apply `+` to a host and a number: arithmetic needs numbers"]],
  },
  {
    name: "unary minus on a bool",
    source: "rule r for each heavy host when -host.busy < 0 then evacuate host",
    expected: [["T207", 6, 33, "`-` needs a number, got a bool"]],
  },
  {
    name: "and of a number",
    source: "rule r for each heavy host when host.busy and host.load then evacuate host",
    expected: [["T208", 6, 47, "`and` needs bools, got a number"]],
  },
  {
    name: "not of a host",
    source: "rule r for each heavy host when not host then evacuate host",
    expected: [["T208", 6, 37, "`not` needs bools, got a host"]],
  },
  {
    name: "a group compared with a state",
    source: "rule r for each host when host.group == up then evacuate host",
    expected: [["T209", 6, 27, "cannot compare a group with a state"]],
  },
  {
    name: "a host compared with a string",
    source: "rule r for each host when host == \"xen1\" then evacuate host",
    expected: [["T209", 6, 27, "cannot compare a host with a string"]],
  },
  {
    name: "ordering of hosts",
    source: "rule r for each heavy host when host < host then evacuate host",
    expected: [["T210", 6, 33, "`<` needs two numbers or two strings, got a host and a host"]],
  },
  {
    name: "ordering a number against a string",
    source: "rule r for each heavy host when host.load >= \"10\" then evacuate host",
    expected: [["T210", 6, 33, "`>=` needs two numbers or two strings, got a number and a string"]],
  },
  {
    name: "`in` with a list of another type",
    source: "rule r for each host when host.state in [1, 2] then evacuate host",
    expected: [["T211", 6, 27, "`in` needs a list of states on the right of a state, got a list of numbers"]],
  },
  {
    name: "`??` with sides of different types",
    source: "rule r for each heavy host let d = pick light host by host.load ?? 5 then evacuate d",
    expected: [["T212", 6, 36, "`??` needs both sides of one type, got a host and a number"]],
  },
  {
    name: "a `when` that is a number",
    source: "rule r for each heavy host when host.load then evacuate host",
    expected: [["T213", 6, 33, "a `when` condition must be a bool, got a number"]],
  },
  {
    name: "a `where` that is a string",
    source: "rule r for each host where host.name then evacuate host",
    expected: [["T213", 6, 28, "a `where` condition must be a bool, got a string"]],
  },
  {
    name: "an aggregate over hosts",
    source: "let total = sum(host for host)\nrule r for each heavy host when total > 1 then evacuate host",
    expected: [["T214", 6, 17, "`sum` needs numbers, got a host"]],
  },
  {
    name: "a `by` key that is a bool",
    source: "rule r for each heavy host by host.busy then evacuate host",
    expected: [["T215", 6, 31, "a `by` key must be a number or a string, got a bool"]],
  },
  {
    name: "`vm in` a list of hosts",
    source: "rule r for each heavy host when exists vm in [host] then evacuate host",
    expected: [["T216", 6, 46, "`vm in …` needs a list of vms, got a list of hosts"]],
  },
  {
    name: "`host in` a number",
    source: "rule r for each host in 5 then evacuate host",
    expected: [["T216", 6, 25, "`host in …` needs a list of hosts, got a number"]],
  },
  {
    name: "a field of a number",
    source: "rule r for each heavy host when host.load.cpu > 1 then evacuate host",
    expected: [["T217", 6, 43, "a number has no field `cpu`: only hosts, vms and labels have fields"]],
  },
  {
    name: "migrate of a host",
    source: "rule r for each heavy host let d = pick light host by host.load then migrate host to d",
    expected: [["T218", 6, 78, "`migrate` needs a vm, got a host"]],
  },
  {
    name: "migrate to a vm",
    source: "rule r for each vm then migrate vm to vm",
    expected: [["T218", 6, 39, "`migrate … to` needs a host, got a vm"]],
  },
  {
    name: "migrate with its two arguments swapped: one error over both, with the fix",
    source: "rule r for each heavy host as src let v = pick vm in src.vms by vm.cpu then migrate src to v",
    expected: [["T218", 6, 85, "`migrate` needs a vm, then a host: these are the other way round; did you mean `migrate v to src`?"]],
  },
  {
    name: "evacuate of a vm",
    source: "rule r for each vm then evacuate vm",
    expected: [["T218", 6, 34, "`evacuate` needs a host, got a vm"]],
  },
  {
    name: "recover of a group",
    source: "rule r for each heavy host then recover heavy",
    expected: [["T218", 6, 41, "`recover` needs a host, got a group"]],
  },
  {
    name: "alert of a number",
    source: "rule r for each heavy host then alert host.load",
    expected: [["T218", 6, 39, "`alert` needs a string, got a number"]],
  },
  {
    name: "a list with items of two types",
    source: "rule r for each host when host.name in [\"a\", 1] then evacuate host",
    expected: [["T226", 6, 46, "list items must have one type: a string, then a number"]],
  },
  {
    name: "a param named like a state",
    source: "param up = 1\nrule r for each heavy host when host.load > up then evacuate host",
    expected: [
      ["T227", 6, 7, "`up` is a host state and cannot name a param"],
      ["T210", 7, 33, "`>` needs two numbers or two strings, got a number and a state"],
    ],
  },
  {
    name: "a rule let that hides a policy let",
    source: "rule r for each heavy host let mean = host.load then evacuate host",
    expected: [["T228", 6, 32, "let `mean` hides the policy's let `mean`; rename it"]],
  },
  {
    name: "a rule let that hides the binding element",
    source: "rule r for each heavy host as src let src = 1 then evacuate src",
    expected: [["T228", 6, 39, "let `src` hides the binding element `src`; rename it"]],
  },
  {
    name: "can_move in a constraint",
    source: "constraint c require can_move(vm, host)\nrule r for each heavy host then evacuate host",
    expected: [["T229", 6, 22, "`can_move` cannot be used in a constraint: `can_move` itself checks the constraints"]],
  },
  {
    name: "a group condition reading groups through a let",
    source: "let n = count(heavy host)\ngroup crowded when n > 3\nrule r for each crowded host then evacuate host",
    expected: [["T230", 7, 20, "a group condition cannot depend on groups (let `n` reads groups): groups are being decided"]],
  },
  {
    name: "a group condition with a binding over a group",
    source: "group near when exists light host\nrule r for each near host then evacuate host",
    expected: [["T230", 6, 24, "a group condition cannot depend on groups (`light host` ranges over a group): groups are being decided"]],
  },
];

describe("checker: errors (T2xx)", () => {
  for (const c of ERRORS) {
    it(c.name, () => {
      const result = check(HEAD + c.source);
      expect(rows(result.diagnostics.filter((d) => d.severity === "error"))).toEqual(c.expected);
      expect(result.ok).toBe(false);
    });
  }
});

describe("checker: declarations", () => {
  it("reports a let used before its declaration and one that uses itself", () => {
    const result = check("policy p\nlet a = b + 1\nlet b = 2\nlet c = c + a\nrule r when c > 0 then alert \"x\"");
    expect(rows(result.diagnostics)).toEqual([
      ["T222", 2, 9, "let `b` is declared later, at line 3, column 5: a let may use only params, earlier lets, aggregates and functions"],
      ["T223", 4, 9, "let `c` refers to itself"],
    ]);
  });

  it("reports duplicates at the second declaration with a note about the first", () => {
    const result = check(
      "policy p\nparam x = 1\nlet x = 2\ngroup g when host.load > x\ngroup g when true\n" +
        "rule r for each g host let y = 1 let y = 2 when y > 0 then evacuate host\nrule r then alert \"a\"\n" +
        "constraint c require true\nconstraint c require true",
    );
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    expect(rows(errors)).toEqual([
      ["T220", 3, 5, "duplicate let `x`"],
      ["T220", 5, 7, "duplicate group `g`"],
      ["T220", 6, 38, "duplicate let `y`"],
      ["T220", 7, 6, "duplicate rule `r`"],
      ["T220", 9, 12, "duplicate constraint `c`"],
    ]);
    expect(errors.map((d) => d.hint)).toEqual([
      "the param `x` is first declared at line 2, column 7",
      "the group `g` is first declared at line 4, column 7",
      "the let `y` is first declared at line 6, column 28",
      "the rule `r` is first declared at line 6, column 6",
      "the constraint `c` is first declared at line 8, column 12",
    ]);
  });

  it("hints that states and groups are written without quotes", () => {
    const result = check("policy p\ngroup hot when host.load > 90\nrule r for each host where host.state == \"down\" or host.group == \"hot\" then recover host");
    expect(rows(result.diagnostics)).toEqual([
      ["T209", 3, 28, "cannot compare a state with a string"],
      ["T209", 3, 52, "cannot compare a group with a string"],
    ]);
    expect(result.diagnostics.map((d) => d.hint)).toEqual([
      "states are names, not strings: write `down` without quotes",
      "groups are names, not strings: write `hot` without quotes",
    ]);
  });

  it("lists the declared groups when an unknown group is no near miss of one", () => {
    // `lite` is three edits from `light`: too far for a suggestion (that would
    // also offer `mem` for `cpu`), so the hint names the groups instead.
    const result = check(`${HEAD}rule r for each lite host then evacuate host\nrule s for each host where exists light host then evacuate host`);
    expect(rows(result.diagnostics)).toEqual([["T203", 6, 17, "unknown group `lite` in policy p"]]);
    expect(result.diagnostics[0]!.hint).toBe("the groups of policy p are heavy, light");
    const near = check(`${HEAD}rule r for each hevy host then evacuate host`);
    expect(near.diagnostics[0]!.hint).toBeUndefined();
  });

  it("reports `otherwise` that is not the last group", () => {
    const result = check("policy p\ngroup rest otherwise\ngroup hot when host.load > 90\nrule r for each hot host then evacuate host");
    expect(rows(result.diagnostics)).toEqual([
      ["T219", 3, 7, "`group rest otherwise` must be the last group; this group can never match"],
    ]);
    expect(result.diagnostics[0]!.hint).toBe("`rest` is declared at line 2, column 7");
  });

  it("reports two files declaring the same policy", () => {
    const { diagnostics } = checkSet();
    expect(rows(diagnostics)).toEqual([["T221", 1, 8, "duplicate policy `p`: another file of this set declares it"]]);
    expect(diagnostics[0]!.span.file).toBe("b.policy");
    expect(diagnostics[0]!.hint).toBe("first declared in a.policy:1:8");
  });

  it("keeps going after errors: every mistake of a file in one run", () => {
    const result = check("policy p\nlet a = host.x\nrule r for each hevy host when vm.cpu > \"a\" then migrate host to host, alert 1");
    expect(rows(result.diagnostics).map((r) => r[0])).toEqual(["W302", "T201", "T203", "T201", "T218", "T218"]);
  });
});

function checkSet() {
  return checkTexts([
    ["a.policy", "policy p\nrule r then alert \"a\""],
    ["b.policy", "policy p\nrule r then alert \"b\""],
  ]);
}

describe("checker: what is allowed", () => {
  const OK: { name: string; source: string }[] = [
    { name: "comparisons with none", source: "rule r for each host where host.labels.rack != none and host.group != none then evacuate host" },
    { name: "labels are strings", source: "rule r for each vm where vm.labels.tier == \"db\" and vm.host.labels.gpu < \"z\" then migrate vm to vm.host" },
    { name: "states in a list", source: "rule r for each host where host.state in [degraded, maintenance] then evacuate host" },
    { name: "a group against a group", source: "rule r for each host where host.group == heavy then evacuate host" },
    { name: "durations are numbers", source: "param cool = 5m\nrule r for each heavy host when host.load > cool / 60 then evacuate host" },
    { name: "string concatenation in an alert", source: "rule r for each heavy host then alert \"hot: \" + host.name" },
    { name: "group of VMs (the VMs of the group's hosts)", source: "rule r for each light vm let d = pick heavy host by host.load then migrate vm to d" },
    { name: "inner bindings shadow outer ones", source: "rule r for each heavy host when exists host where host.load < 1 then evacuate host" },
    { name: "a rule let named vm (as cslb.policy does)", source: "rule r for each heavy host as src let vm = pick vm in src.vms by vm.cpu then migrate vm to src" },
    { name: "pick ?? pick", source: "rule r for each heavy host let d = pick light host by host.load ?? pick host by host.load then evacuate d" },
    { name: "min/max aggregates and functions", source: "let lo = min(host.load for host)\nrule r for each heavy host when max(host.load, lo) > min(1, 2, 3) then evacuate host" },
    { name: "constraints see vm and host", source: "constraint c when vm.labels.tier == \"db\" require no vm in host.vms as o where o.labels.tier == \"db\"\nrule r for each heavy host then evacuate host" },
    { name: "string ordering and `by` a string", source: "rule r for each heavy host by host.name desc when host.name > \"a\" then evacuate host" },
  ];
  for (const c of OK) {
    it(c.name, () => {
      const result = check(HEAD + c.source);
      expect(rows(result.diagnostics.filter((d) => d.severity === "error"))).toEqual([]);
    });
  }
});
