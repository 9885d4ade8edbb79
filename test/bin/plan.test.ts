/**
 * `vmpolicy plan` as a process (the built CLI, `npm run build` first):
 * exit codes, the JSON of SPEC 3, the readable form, bad facts with their
 * paths, policy errors as `vmpolicy check` prints them, unknown params.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, afterEach, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { ROOT, planWith } from "../scenarios/helpers.js";
import { Command } from "commander";
import { registerPlan } from "../../bin/commands/plan.js";
import { parseFactsJson } from "../../engine/plan/facts.js";
import { locateJsonError } from "../../engine/json-errors.js";
import { resolveParams } from "../../engine/policy/params.js";
import { readPolicySources } from "../../engine/policy/files.js";
import { renderPlan } from "../../engine/plan/render.js";
import { H, host, origin, round, vm } from "../engine/plan/round-helpers.js";

const CLI = join(ROOT, "dist", "bin", "vmpolicy.js");
const THESIS = "test/scenarios/cslb-thesis-two-hosts/facts.json";
const tmp = mkdtempSync(join(tmpdir(), "vmpolicy-plan-"));

function plan(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, "plan", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("vmpolicy plan", () => {
  it("prints the plan of SPEC 3 as JSON with the default policies", () => {
    const r = plan("--facts", THESIS, "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    // The scenario's expected plan (written with --explain there).
    const expected = parseYaml(readFileSync(join(ROOT, "test/scenarios/cslb-thesis-two-hosts/scenario.test.yaml"), "utf8")).tests[0].expect;
    delete expected.actions[0].explain;
    expect(JSON.parse(r.out)).toEqual(expected);
    expect(Object.keys(JSON.parse(r.out))).toEqual(["actions", "skipped", "errors", "groups", "values"]);
  });

  it("adds explanations with --explain", () => {
    const r = plan("--facts", THESIS, "--json", "--explain");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).actions[0].explain).toEqual({ binding: { src: "xen1" }, lets: { dst: "xen2", want: 96, vm: "vm1" } });
  });

  it("prints a readable plan without colour when not on a terminal", () => {
    const r = plan("--facts", THESIS, "--explain");
    expect(r.code).toBe(0);
    expect(r.out).toContain("migrate vm1 xen1 -> xen2  cslb.balance");
    expect(r.out).toContain("cslb: heavy xen1; light xen2");
    expect(r.out).toContain("cslb: band=10 mean=95.25 lower=85.25 upper=105.25 mid=95.25");
    expect(r.out).toContain("for src=xen1");
    expect(r.out).toContain("let dst=xen2 want=96 vm=vm1");
    expect(r.out).not.toMatch(/\u001b\[/);
  });

  it("replaces the default set with --policy and applies --param", () => {
    const r = plan("--facts", THESIS, "--json", "--policy", "policies/cslb.policy", "--param", "cslb.band=40");
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(Object.keys(p.groups)).toEqual(["cslb"]);
    // band 40: [55.25, 135.25], both hosts moderate
    expect(p.actions).toEqual([]);
    expect(p.values.cslb.band).toBe(40);
  });

  it("takes the planner settings from flags", () => {
    const r = plan("--facts", THESIS, "--json", "--max-per-round", "0");
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.actions).toEqual([]);
    expect(p.skipped).toEqual([{ kind: "migrate", to: "xen2", rule: "cslb.balance", reason: "vm is none (the round is full: max_per_round is 0)" }]);
  });

  it("exits 1 naming every bad path in the facts", () => {
    const file = join(tmp, "bad.json");
    writeFileSync(file, JSON.stringify({ hosts: [{ name: "h", state: "up", cpus: 2, mem: 10, vms: [{ name: "v", cpu: -1, mem: 1 }] }, { name: "h", state: "lost", cpus: 2, mem: 10, vms: [] }] }));
    const r = plan("--facts", file);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("hosts[0].vms[0].cpu: must be a finite number ≥ 0");
    expect(r.err).toContain("hosts[1].state");
  });

  it("exits 1 on an unknown param, with a suggestion", () => {
    const r = plan("--facts", THESIS, "--param", "cslb.bnd=3");
    expect(r.code).toBe(1);
    expect(r.err).toContain("unknown param `cslb.bnd`");
    expect(r.err).toContain("did you mean `cslb.band`?");
  });

  it("exits 1 on a policy with errors, printed as check prints them", () => {
    const file = join(tmp, "broken.policy");
    writeFileSync(file, "policy broken\nlet x = host_count + 1\n");
    const r = plan("--facts", THESIS, "--policy", file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.policy:2:9: error: /);
  });

  it("reads the facts from a pipe (--facts /dev/stdin), and names a bad one's paths, though a pipe cannot be read twice", () => {
    // Through `cat |`: spawnSync's own `input` is a socket, which /dev/stdin cannot open.
    const run = (input: string) => {
      const file = join(tmp, "piped.json");
      writeFileSync(file, input);
      return spawnSync("sh", ["-c", 'cat "$1" | "$2" "$3" plan --facts /dev/stdin', "sh", file, process.execPath, CLI], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "" } });
    };
    const good = run(readFileSync(join(ROOT, THESIS), "utf8"));
    expect([good.status, good.stdout]).toEqual([0, plan("--facts", THESIS).out]);
    const bad = run(JSON.stringify({ hosts: [{ name: "h", state: "up", cpus: 2, mem: 10, vms: [{ name: "v", cpu: -1, mem: 1 }] }] }));
    expect([bad.status, bad.stderr]).toEqual([1, "vmpolicy plan: /dev/stdin is not a valid facts snapshot:\nhosts[0].vms[0].cpu: must be a finite number ≥ 0\n"]);
  });

  it("exits 2 when a file cannot be read", () => {
    expect(plan("--facts", join(tmp, "missing.json")).code).toBe(2);
    expect(plan("--facts", THESIS, "--policy", join(tmp, "missing.policy")).code).toBe(2);
  });
});

describe("vmpolicy plan --rounds (SPEC 12)", () => {
  const pingpong = join(tmp, "pingpong.json");
  writeFileSync(
    pingpong,
    JSON.stringify({
      hosts: [
        { name: "a", state: "up", cpus: 4, mem: 8192, vms: [{ name: "v1", cpu: 100, mem: 512 }, { name: "v2", cpu: 100, mem: 512 }] },
        { name: "b", state: "up", cpus: 4, mem: 8192, vms: [{ name: "v3", cpu: 100, mem: 512 }] },
      ],
    }),
  );

  it("shows the rounds that moved and the cycle, and exits 3", () => {
    const r = plan("--facts", pingpong, "--rounds");
    expect(r.err).toBe("");
    expect(r.code).toBe(3);
    expect(r.out).toBe(
      [
        "Static workload: every VM keeps its CPU; each plan is applied as if it completed, 10 s between rounds.",
        "round 1 (0 s)",
        "  migrate v1 a -> b  cslb.balance",
        "round 2 (10 s)",
        "  migrate v3 b -> a  cslb.balance",
        "round 3 (20 s)",
        "  migrate v2 a -> b  cslb.balance",
        "round 8 (70 s)",
        "  migrate v1 b -> a  cslb.balance",
        "round 9 (80 s)",
        "  migrate v3 a -> b  cslb.balance",
        "round 10 (90 s)",
        "  migrate v2 b -> a  cslb.balance",
        "round 15 (140 s)",
        "  migrate v1 a -> b  cslb.balance",
        "round 16 (150 s)",
        "  migrate v3 b -> a  cslb.balance",
        "cycle: the placement comes back every 14 rounds (140 s); VMs v1, v2, v3 take part; 154.3 migrations an hour, for nothing",
        "",
      ].join("\n"),
    );
  });

  it("prints the JSON of SPEC 12", () => {
    const r = plan("--facts", pingpong, "--rounds", "20", "--interval", "10s", "--json");
    expect(r.code).toBe(3);
    const out = JSON.parse(r.out);
    expect(Object.keys(out)).toEqual(["rounds", "outcome", "cycle"]);
    expect(out.outcome).toBe("cycle");
    expect(out.cycle).toEqual({ period_rounds: 14, period_s: 140, vms: ["v1", "v2", "v3"], migrations_per_hour: (6 * 3600) / 140 });
    expect(out.rounds[0]).toEqual({ round: 1, at_s: 0, moves: [{ kind: "migrate", vm: "v1", from: "a", to: "b", rule: "cslb.balance" }] });
    expect(out.rounds[3]).toEqual({ round: 4, at_s: 30, moves: [] });
  });

  it("exits 0 when the policy settles, and 3 when the rounds run out first", () => {
    const settled = plan("--facts", pingpong, "--rounds", "--policy", "policies/examples/cslb-stable.policy", "--json");
    expect(settled.code).toBe(0);
    expect(JSON.parse(settled.out)).toMatchObject({ outcome: "settled", settled_after: 0 });
    const short = plan("--facts", pingpong, "--rounds", "5");
    expect(short.code).toBe(3);
    expect(short.out.trimEnd().split("\n").at(-1)).toBe("unsettled: VMs still moved in the last 70 s of 5 rounds");
  });

  it("refuses a bad --rounds or --interval, and --interval alone (exit 2)", () => {
    expect(plan("--facts", pingpong, "--rounds", "0")).toMatchObject({ code: 2, err: 'vmpolicy plan: --rounds: expected a whole number from 1 to 100000, got "0"\n' });
    expect(plan("--facts", pingpong, "--rounds", "3", "--interval", "soon")).toMatchObject({
      code: 2,
      err: 'vmpolicy plan: --interval: must be a duration such as 30s, 5m, 2h or a number of seconds (got "soon")\n',
    });
    expect(plan("--facts", pingpong, "--interval", "10s")).toMatchObject({ code: 2, err: "vmpolicy plan: --interval needs --rounds\n" });
  });
});

describe("--param values", () => {
  const declared = [
    { policy: "p", name: "band", type: "number" as const },
    { policy: "p", name: "wait", type: "duration" as const },
  ];
  it("rejects a number or duration too large to be finite, naming the param", () => {
    const r = resolveParams(["band=1e999", `wait=${"9".repeat(400)}h`], declared);
    expect(r.values.size).toBe(0);
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([
      "E405 --param band=1e999: p.band is a number; `1e999` is too large for a number: the largest is about 1.8e308",
      `E405 --param wait=${"9".repeat(400)}h: p.wait is a duration; \`${"9".repeat(400)}h\` is too large for a duration: the largest is about 1.8e308 seconds`,
    ]);
  });

  it("still accepts large finite values", () => {
    const r = resolveParams(["band=1e300", "wait=2h"], declared);
    expect(r.diagnostics).toEqual([]);
    expect([...r.values]).toEqual([
      ["p.band", 1e300],
      ["p.wait", 7200],
    ]);
  });
});

describe("JSON syntax errors", () => {
  it("are located after a number longer than 400 digits", () => {
    const text = `{"hosts": [${"1".repeat(500)}, }`;
    expect(locateJsonError(text)).toEqual({ line: 1, column: 514, message: `unexpected character "}": expected a value` });
    const r = parseFactsJson(text, "f.json");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.path).toBe("f.json:1:514");
  });
});

describe("readPolicySources", () => {
  it("reads a file named twice (directly and through its folder) once", async () => {
    const root = mkdtempSync(join(tmpdir(), "vmpolicy-plan-"));
    writeFileSync(join(root, "a.policy"), "policy a\n");
    writeFileSync(join(root, "b.policy"), "policy b\n");
    const read = await readPolicySources([join(root, "b.policy"), root, join(root, ".", "a.policy")]);
    expect(read.ok).toBe(true);
    expect(read.sources.map((s) => s.file)).toEqual([join(root, "b.policy"), join(root, "a.policy")]);
  });
});

describe("none in actions (SPEC 2.5)", () => {
  it("lists evacuate, recover and migrate of none under skipped with the reason, and plans the rest", async () => {
    const text = `policy t
rule r
  then evacuate (pick host where host.state == maintenance by host.name),
       recover (pick host where host.state == down by host.name),
       migrate (pick vm where vm.cpu > 5 by vm.name) to (pick host where host.cpus > 100 by host.name),
       alert "still here"
`;
    const plan = await planWith([{ file: "t.policy", text }], {
      hosts: [host("a", "up", 4, 8192, [vm("a1", 10, 512)]), host("b", "up", 4, 8192, [])],
    });
    expect(plan.actions).toEqual([{ kind: "alert", message: "still here", rule: "t.r" }]);
    expect(plan.skipped).toEqual([
      { kind: "evacuate", rule: "t.r", reason: "host is none" },
      { kind: "recover", rule: "t.r", reason: "host is none" },
      { kind: "migrate", vm: "a1", from: "a", rule: "t.r", reason: "destination is none" },
    ]);
    expect(plan.errors).toEqual([]);
  });

  it("explains those skips with --explain", async () => {
    const text = `policy t
rule r
  for each host as h where h.cpus > 2
  let target = pick host where host.cpus > 100 by host.name
  then evacuate target, migrate (pick vm in h.vms by vm.name) to target, alert h.labels.owner
`;
    const plan = await planWith([{ file: "t.policy", text }], { hosts: [host("a", "up", 4, 8192, [vm("a1", 10, 512)])] }, { explain: true });
    const explain = { binding: { h: "a" }, lets: { target: null } };
    expect(plan.skipped).toEqual([
      { kind: "evacuate", rule: "t.r", reason: "host is none", explain },
      { kind: "migrate", vm: "a1", from: "a", rule: "t.r", reason: "destination is none", explain },
      { kind: "alert", rule: "t.r", reason: "message is none", explain },
    ]);
  });
});

describe("a lost host's in-flight migrations (SPEC 2.6)", () => {
  it("do not stop its VMs from being restarted; the destinations' do count", () => {
    // x is down and takes part in two in-flight migrations (max_per_host 2); u1 and u2 in one each.
    const r = round(
      {
        hosts: [
          host("x", "down", 4, 8192, [vm("xa", 10, 2048), vm("xb", 10, 1024), vm("xc", 10, 512), vm("xd", 1, 256)]),
          host("u1", "up", 4, 16384, [vm("u1a", 40, 1024)]),
          host("u2", "up", 4, 16384, [vm("u2a", 80, 1024)]),
        ],
        migrating: [
          { vm: "xc", from: "x", to: "u1" },
          { vm: "u2a", from: "u2", to: "x" },
        ],
      },
      { max_per_host: 2 },
    );
    r.recover(H(r, "x"), origin);
    const moves = r.result().actions.map((a) => (a.kind === "alert" ? a.message : `${a.vm}->${a.to}`));
    expect(moves).toEqual(["xa->u1", "xb->u2"]);
    expect(r.result().skipped.map((s) => `${s.vm}: ${s.reason}`)).toEqual([
      "xc: no destination: of 2 other up hosts, 2 are at max_per_host 2",
      "xd: no destination: of 2 other up hosts, 2 are at max_per_host 2",
    ]);
  });
});

describe("vmpolicy plan", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  /** Runs `vmpolicy plan ARGS` in-process; `stderr()` is what it wrote there so far. */
  async function runPlan(args: readonly string[]): Promise<{ stderr: () => string; run: Promise<unknown> }> {
    let err = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const program = new Command().exitOverride();
    registerPlan(program);
    return { stderr: () => err, run: program.parseAsync(["node", "vmpolicy", "plan", ...args]) };
  }

  async function plan(...args: string[]): Promise<{ code: number | string | undefined; err: string }> {
    const { stderr, run } = await runPlan(args);
    await run;
    const code = process.exitCode;
    vi.restoreAllMocks();
    return { code, err: stderr() };
  }

  it("names the flag of a bad planner setting, and wants whole numbers for the counts", async () => {
    const exit = vi.spyOn(process, "exit").mockImplementation(((code: number) => {
      throw new Error(`exit ${code}`);
    }) as never);
    for (const [flag, value, what] of [
      ["--max-per-host", "1.5", "a whole number"],
      ["--max-per-round", "-1", "a whole number"],
      ["--cooldown", "soon", "a number"],
    ] as const) {
      const { stderr, run } = await runPlan(["--facts", "x.json", flag, value]);
      await expect(run).rejects.toThrow("exit 2");
      expect(stderr()).toBe(`vmpolicy plan: ${flag}: expected ${what} ≥ 0, got "${value}"\n`);
    }
    expect(exit).toHaveBeenCalledTimes(3);
  });

  it("says why a facts file cannot be read, in words", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-plan-"));
    mkdirSync(join(dir, "facts.json"));
    expect(await plan("--facts", join(dir, "facts.json"))).toEqual({ code: 2, err: `vmpolicy plan: cannot read ${join(dir, "facts.json")}: is a directory\n` });
    expect(await plan("--facts", join(dir, "missing.json"))).toEqual({
      code: 2,
      err: `vmpolicy plan: cannot read ${join(dir, "missing.json")}: no such file or directory\n`,
    });
    // A sparse 1 TiB file: sized from its length, the fast path's name table once failed to allocate before reading a byte.
    const huge = join(dir, "huge.json");
    writeFileSync(huge, '{"hosts":[]}');
    truncateSync(huge, 2 ** 40);
    expect(await plan("--facts", huge)).toEqual({ code: 2, err: `vmpolicy plan: cannot read ${huge}: File size (1099511627776) is greater than 2 GiB\n` });
  });
});

describe("the readable plan", () => {
  it("prints a number too big to round as it is, not as Infinity", () => {
    const text = renderPlan(
      { actions: [], skipped: [], errors: [], groups: { p: {} }, values: { p: { big: 1e308, neg: -2e20, small: 1.23456, list: [1e300, 0.5] } } },
      { color: false },
    );
    expect(text).toContain("  p: big=1e+308 neg=-200000000000000000000 small=1.235 list=[1e+300, 0.5]\n");
  });
});
