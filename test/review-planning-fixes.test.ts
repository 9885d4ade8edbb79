/**
 * Review of the planning area: params out of range, JSON errors after long
 * numbers, a policy file named twice, none hosts in actions (SPEC 2.5), a lost
 * host's in-flight migrations (SPEC 2.6), and `vmpolicy plan`'s message for an
 * unreadable facts file.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPlan } from "../bin/commands/plan.js";
import { parseFactsJson } from "../engine/facts.js";
import { locateJsonError } from "../engine/json-errors.js";
import { resolveParams } from "../engine/params.js";
import { readPolicySources } from "../engine/policy-files.js";
import { renderPlan } from "../engine/render-plan.js";
import { H, host, origin, round, vm } from "./round-helpers.js";
import { planWith } from "./scenarios/helpers.js";

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
    const root = mkdtempSync(join(tmpdir(), "vmpolicy-review-"));
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
    const dir = mkdtempSync(join(tmpdir(), "vmpolicy-review-"));
    mkdirSync(join(dir, "facts.json"));
    expect(await plan("--facts", join(dir, "facts.json"))).toEqual({ code: 2, err: `vmpolicy plan: cannot read ${join(dir, "facts.json")}: is a directory\n` });
    expect(await plan("--facts", join(dir, "missing.json"))).toEqual({
      code: 2,
      err: `vmpolicy plan: cannot read ${join(dir, "missing.json")}: no such file or directory\n`,
    });
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
