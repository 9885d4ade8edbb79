/**
 * `vmpolicy test` as a real process (the built CLI in dist/; `npm test`
 * builds it): passing, failing, malformed and unreadable test files, the
 * JSON form, --run, and coverage of a policy with a rule no case reaches
 * (SPEC 8).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = resolve("dist/bin/vmpolicy.js");
const dir = mkdtempSync(join(tmpdir(), "vmpolicy-test-"));

function run(args: string[], cwd = dir) {
  const env = { ...process.env };
  delete env["NO_COLOR"];
  delete env["FORCE_COLOR"];
  const r = spawnSync(process.execPath, [CLI, "test", ...args], { cwd, env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

// A policy with a rule no case reaches (`alarm` needs a host above 1000 % load).
write(
  "p.policy",
  [
    "policy p",
    "param limit = 90",
    "let hot = count(host where host.load > limit)",
    "group busy when host.load > limit",
    "group calm otherwise",
    "rule shed",
    "  for each busy host as src",
    "  let dst = pick calm host by host.load asc",
    "  when dst != none",
    "  let vm = pick vm in src.vms by vm.cpu asc",
    "  then migrate vm to dst",
    "rule alarm",
    "  for each host where host.load > 1000",
    '  then alert "runaway " + host.name',
    "",
  ].join("\n"),
);
write(
  "facts.json",
  JSON.stringify({
    hosts: [
      { name: "a", state: "up", cpus: 1, mem: 4096, vms: [{ name: "v1", cpu: 60, mem: 512 }, { name: "v2", cpu: 40, mem: 512 }] },
      { name: "b", state: "up", cpus: 1, mem: 4096, vms: [] },
    ],
  }),
);
const PASSING = write(
  "pass.test.yaml",
  `policies: [p.policy]
tests:
  - name: the busiest host sheds its smallest VM
    facts: facts.json
    expect:
      actions: [ { kind: migrate, vm: v2, from: a, to: b } ]
      groups: { p: { a: busy, b: calm } }
      values: { p: { hot: 1.0000000000001, limit: 90 } }
  - name: a higher limit keeps the VMs where they are
    facts: facts.json
    params: { limit: 100 }
    expect:
      actions: []
`,
);

describe("vmpolicy test (process)", () => {
  it("a passing file: exit 0, nothing but the last line", () => {
    expect(run([PASSING])).toEqual({ code: 0, stdout: "2 passed, 0 failed\n", stderr: "" });
  });

  it("-v prints every case with its line", () => {
    const r = run([PASSING, "-v"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS pass\.test\.yaml:3: the busiest host sheds its smallest VM \(\d+\.\d ms\)\nPASS pass\.test\.yaml:9: a higher limit/);
  });

  it("a failing case: exit 1, the differences, expected against actual", () => {
    const file = write(
      "fail.test.yaml",
      `policies: [p.policy]
tests:
  - name: wrong VM
    facts: facts.json
    expect:
      actions: [ { kind: migrate, vm: v1, to: b } ]
      groups: { p: { b: busy } }
      skipped: [ { vm: v2, reason: "cooldown" } ]
  - name: right
    facts: facts.json
    expect: { actions_include: [ { vm: v2 } ], actions_exclude: [ { vm: v1 } ] }
`,
    );
    const r = run([file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        "FAIL fail.test.yaml:3: wrong VM",
        "  actions differ (- expected, + actual):",
        "    - { kind: migrate, vm: v1, to: b }",
        "    + { kind: migrate, vm: v2, to: b, from: a, rule: p.shed }",
        "  groups.p.b: expected busy, got calm",
        "  skipped: no skip matches (a reason matches as a substring):",
        "    - { vm: v2, reason: cooldown }",
        "    skipped: none",
        "1 passed, 1 failed",
        "",
      ].join("\n"),
    );
  });

  it("settles_within and cycles re-plan the case (SPEC 12); a failure shows the rounds", () => {
    write("pingpong.json", readFileSync("docs/examples/pingpong.json", "utf8"));
    const file = write(
      "stability.test.yaml",
      `policies: [${resolve("policies/cslb.policy")}]
tests:
  - name: cslb settles on the ping-pong cluster
    facts: pingpong.json
    expect:
      settles_within: 5
  - name: cslb cycles there
    facts: pingpong.json
    expect:
      cycles: true
  - name: a bad value
    facts: pingpong.json
    expect:
      settles_within: soon
`,
    );
    const bad = run([file]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("settles_within: must be a whole number of rounds from 0 to 10000");
    writeFileSync(join(dir, file), readFileSync(join(dir, file), "utf8").replace(/ {2}- name: a bad value[\s\S]*$/, ""));
    const r = run([file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        `FAIL ${file}:3: cslb settles on the ping-pong cluster`,
        "  settles_within: expected to settle within 5 rounds; it cycles:",
        "    Static workload: every VM keeps its CPU; each plan is applied as if it completed, 10 s between rounds.",
        "    round 1 (0 s)",
        "      migrate v1 a -> b  cslb.balance",
        "    round 2 (10 s)",
        "      migrate v3 b -> a  cslb.balance",
        "    round 3 (20 s)",
        "      migrate v2 a -> b  cslb.balance",
        "    round 8 (70 s)",
        "      migrate v1 b -> a  cslb.balance",
        "    round 9 (80 s)",
        "      migrate v3 a -> b  cslb.balance",
        "    round 10 (90 s)",
        "      migrate v2 b -> a  cslb.balance",
        "    round 15 (140 s)",
        "      migrate v1 a -> b  cslb.balance",
        "    round 16 (150 s)",
        "      migrate v3 b -> a  cslb.balance",
        "    cycle: the placement comes back every 14 rounds (140 s); VMs v1, v2, v3 take part; 154.3 migrations an hour, for nothing",
        "1 passed, 1 failed",
        "",
      ].join("\n"),
    );
  });

  it("--run picks cases by name", () => {
    expect(run([PASSING, "--run", "higher"]).stdout).toBe("1 passed, 0 failed\n");
    expect(run([PASSING, "--run", "("]).code).toBe(2);
  });

  it("--json: every case with its failures, and the counts", () => {
    const r = run(["fail.test.yaml", "--json"]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.passed).toBe(1);
    expect(json.failed).toBe(1);
    expect(json.errors).toEqual([]);
    expect(json.cases[0]).toMatchObject({ file: "fail.test.yaml", line: 3, name: "wrong VM", passed: false });
    expect(json.cases[0].failures.map((f: { expectation: string }) => f.expectation)).toEqual(["actions", "groups", "skipped"]);
  });

  it("a malformed file: every problem at its line, like check; no case runs; exit 1", () => {
    const file = write(
      "bad.test.yaml",
      `policies: [p.policy]
tests:
  - name: typo
    facts: facts.json
    expect:
      action: []
      actions: [ { kind: migrate, vmm: v1 } ]
  - name: typo
    facts: { hosts: [ { name: a, state: up, cpus: -1, mem: 1, vms: [] } ] }
    settings: { max_per_round: 1.5 }
    expect: {}
`,
    );
    const r = run([file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        "bad.test.yaml:6:7: error: unknown key `action` in expect (did you mean `actions`?); expected actions, actions_include, actions_exclude, groups, values, skipped, errors, settles_within, cycles",
        "          action: []",
        "          ^^^^^^",
        "bad.test.yaml:7:35: error: expect.actions[0].vmm: unknown field `vmm`; expected kind, vm, from, to, rule, message, explain",
        "          actions: [ { kind: migrate, vmm: v1 } ]",
        "                                      ^^^",
        "bad.test.yaml:8:5: error: two cases are named \"typo\"",
        "      - name: typo",
        "        ^^^^",
        "bad.test.yaml:9:45: error: facts: hosts[0].cpus: must be a positive integer",
        "        facts: { hosts: [ { name: a, state: up, cpus: -1, mem: 1, vms: [] } ] }",
        "                                                ^^^^",
        "bad.test.yaml:10:17: error: settings.max_per_round: must be a whole number ≥ 0",
        "        settings: { max_per_round: 1.5 }",
        "                    ^^^^^^^^^^^^^",
        "0 passed, 0 failed, 5 errors",
        "",
      ].join("\n"),
    );
  });

  it("YAML that does not parse, a missing facts file, a bad param, a broken policy: errors at their lines, exit 1", () => {
    write("syntax.test.yaml", "tests:\n  - name: x\n    facts: [1,\n");
    write("nofacts.test.yaml", "policies: [p.policy]\ntests:\n  - name: x\n    facts: missing.json\n    expect: {}\n");
    write("param.test.yaml", "policies: [p.policy]\ntests:\n  - name: x\n    facts: facts.json\n    params: { limt: 3 }\n    expect: {}\n");
    write("broken.policy", "policy broken\nrule r for each host where host.lod > 1 then evacuate host\n");
    write("broken.test.yaml", "policies: [broken.policy]\ntests:\n  - name: x\n    facts: facts.json\n    expect: {}\n");
    const r = run(["syntax.test.yaml", "nofacts.test.yaml", "param.test.yaml", "broken.test.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^syntax\.test\.yaml:\d+:\d+: error: not valid YAML: /);
    expect(r.stdout).toContain("nofacts.test.yaml:4:5: error: facts: cannot read missing.json: no such file or directory\n");
    expect(r.stdout).toContain("param.test.yaml:5:5: error: params limt=3: unknown param `limt`\n");
    // A policy's own error, as `check` prints it.
    expect(r.stdout).toContain("broken.policy:2:33: error: unknown field `lod` of host; did you mean `load`?\n");
    expect(r.stdout.endsWith("0 passed, 0 failed, 4 errors\n")).toBe(true);
  });

  it("a path that cannot be read: exit 2, named on stderr", () => {
    const r = run([PASSING, "nowhere.test.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("vmpolicy test: cannot read nowhere.test.yaml: no such file or directory\n");
    expect(r.stdout).toBe("2 passed, 0 failed\n");
  });

  it("--coverage names the rule no case reaches, and the percentage", () => {
    const r = run([PASSING, "--coverage"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "coverage:",
        "  p.policy: 87.5% (7/8)",
        "    p.policy:12:1: rule alarm: never evaluated",
        "  total: 87.5% (7/8)",
        "2 passed, 0 failed",
        "",
      ].join("\n"),
    );
    const json = JSON.parse(run([PASSING, "--coverage", "--json"]).stdout);
    const file = json.coverage.files[0];
    expect(file).toMatchObject({ file: "p.policy", covered: 7, total: 8, percent: 87.5 });
    expect(file.items.map((i: { kind: string; name: string; line: number }) => `${i.line} ${i.kind} ${i.name}`)).toEqual([
      "3 let let hot",
      "4 group group busy",
      "5 group group calm",
      "6 rule rule shed",
      "8 let let dst",
      "9 when when dst != none",
      "10 let let vm",
      "12 rule rule alarm",
    ]);
    // Counted, not guessed: the shed rule ran once per busy host per case (a, then nothing with limit 100).
    expect(file.items.find((i: { name: string }) => i.name === "rule shed")).toMatchObject({ evaluated: 1, held: 1, planned: 1 });
    // Two hosts in each of two cases: `busy` is tested 4 times and holds once (a, at limit 90);
    // `calm` (otherwise) is reached by the other 3 and takes them all.
    expect(file.items.find((i: { name: string }) => i.name === "group busy")).toMatchObject({ evaluated: 4, held: 1 });
    expect(file.items.find((i: { name: string }) => i.name === "group calm")).toMatchObject({ evaluated: 3, held: 3 });
  });

  it("the shipped tests pass and exercise every clause of the shipped policies", () => {
    const r = run(["--coverage", "--json"], resolve("."));
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.failed).toBe(0);
    expect(json.passed).toBeGreaterThanOrEqual(20);
    expect(json.coverage.files.map((f: { file: string; percent: number }) => `${f.file} ${f.percent}`)).toEqual([
      "policies/cslb.policy 100",
      "policies/evacuate.policy 100",
      "policies/examples/affinity.policy 100",
      "policies/examples/consolidate.policy 100",
      "policies/examples/cslb-cost.policy 100",
      "policies/examples/cslb-hysteresis.policy 100",
      "policies/examples/cslb-script.policy 100",
      "policies/examples/cslb-stable.policy 100",
      "policies/examples/cslb-used.policy 100",
    ]);
  });
});

describe("the README's test file", () => {
  it("passes as the README shows it", () => {
    const readme = readFileSync("README.md", "utf8");
    const block = /\n\n((?: {4}policies: .*\n(?: {4}.*\n|\n)+?))\nA failing case/.exec(readme);
    expect(block).not.toBeNull();
    writeFileSync(join(dir, "readme.test.yaml"), block![1]!.replace(/^ {4}/gm, "").replace("[cslb.policy, evacuate.policy]", `[${resolve("policies/cslb.policy")}, ${resolve("policies/evacuate.policy")}]`));
    expect(run(["readme.test.yaml"])).toEqual({ code: 0, stdout: "1 passed, 0 failed\n", stderr: "" });
  });
});
