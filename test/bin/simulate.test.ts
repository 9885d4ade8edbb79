/**
 * `vmpolicy simulate` as a real process (the built CLI in dist/; run
 * `npm run build` first): the `--json` rows, the table, `--chart` SVG,
 * determinism across processes, scenario errors and usage errors.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../scenarios/helpers.js";

const CLI = join(ROOT, "dist", "bin", "vmpolicy.js");
const tmp = mkdtempSync(join(tmpdir(), "vmpolicy-simulate-"));

function simulate(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, "simulate", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const KEYS = ["iterations", "policy", "runs", "runs_sd", "vm_pct", "dom0_pct", "idle_pct", "engine_pct", "migrations", "migrations_sd", "pingpong", "served_pct", "plan_errors", "repeats", "ci95"];

describe("vmpolicy simulate", () => {
  it("prints one JSON row per (iterations, policy), static first, and is deterministic", () => {
    const a = simulate("--sweep", "1,64", "--repeat", "9", "--duration", "20m", "--json");
    expect(a.err).toBe("");
    expect(a.code).toBe(0);
    const rows = JSON.parse(a.out).rows as Record<string, unknown>[];
    expect(rows.map((r) => [r.iterations, r.policy])).toEqual([[1, "static"], [1, "cslb"], [64, "static"], [64, "cslb"]]);
    for (const r of rows) expect(Object.keys(r)).toEqual(KEYS);
    expect(rows[0]!.engine_pct).toBe(0);
    expect(rows[0]!.migrations).toBe(0);
    expect(rows[1]!.engine_pct).toBeGreaterThan(0);
    // The 95% CI of the mean is t(0.975, 8) = 2.306 × sd / √9.
    for (const r of rows as { runs_sd: number; ci95: { runs: number } }[]) expect(r.ci95.runs).toBeCloseTo((2.306 * r.runs_sd) / 3, 1);
    const b = simulate("--sweep", "1,64", "--repeat", "9", "--duration", "20m", "--json");
    expect(b.out).toBe(a.out);
    const c = simulate("--sweep", "1,64", "--repeat", "9", "--duration", "20m", "--json", "--seed", "2");
    expect(c.out).not.toBe(a.out);
  }, 120_000);

  it("compares several policies and prints a table like Table 5.5", () => {
    const r = simulate("--iterations", "8", "--repeat", "9", "--duration", "10m", "--policy", "policies/cslb.policy", "--policy", "policies/examples/cslb-cost.policy");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^iterations\s+policy\s+runs\s+±95%\s+vs static\s+VM%\s+Dom0%\s+Idle%\s+engine%\s+migrations\s+ping-pong$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/).filter(Boolean)[l.startsWith("8") ? 1 : 0])).toEqual(["static", "cslb", "cslb_cost"]);
    expect(lines[3]).toMatch(/[+-]\d+\.\d%/);
    // The ± column is the 95% CI of the mean, as the JSON's ci95.runs (not the spread of runs).
    const json = simulate("--iterations", "8", "--repeat", "9", "--duration", "10m", "--policy", "policies/cslb.policy", "--policy", "policies/examples/cslb-cost.policy", "--json");
    const ci = (JSON.parse(json.out).rows as { ci95: { runs: number } }[]).map((x) => x.ci95.runs.toFixed(1));
    expect(lines.slice(2).map((l) => l.split(/\s+/).filter(Boolean)[l.startsWith("8") ? 3 : 2])).toEqual(ci);
  });

  it("--paired runs static and every policy on the same seeds: a policy against itself differs by exactly 0", () => {
    const args = ["--paired", "--iterations", "4", "--repeat", "9", "--duration", "10m", "--policy", "policies/cslb.policy", "--policy", "policies/cslb.policy"];
    const r = simulate(...args, "--json");
    expect([r.code, r.err]).toEqual([0, ""]);
    const rows = JSON.parse(r.out).paired as { policy: string; vs_static: { mean: number; ci95: number }; vs_first?: unknown; repeats: number }[];
    expect(rows.map((x) => [x.policy, x.repeats, x.vs_first])).toEqual([["cslb", 9, undefined], ["cslb#2", 9, { mean: 0, ci95: 0 }]]);
    expect(rows[1]!.vs_static).toEqual(rows[0]!.vs_static);
    expect(rows[0]!.vs_static.ci95).toBeGreaterThan(0);
    const text = simulate(...args);
    expect(text.out.split("\n")[0]).toMatch(/^iterations\s+policy\s+vs static\s+vs cslb\s+migrations\/h$/);
    expect(simulate("--paired", "--static").err).toBe("vmpolicy simulate: --paired compares policies with static placement: give policies, and no --chart\n");
  });

  it("--param POLICY.NAME=VALUE goes only to the set that declares POLICY", () => {
    const args = ["--scenario", "docs/examples/slow-link.yaml", "--iterations", "1", "--repeat", "9", "--duration", "5m", "--json", "--policy", "policies/cslb.policy", "--policy", "policies/examples/cslb-cost.policy"];
    const rows = (r: ReturnType<typeof simulate>) => JSON.parse(r.out).rows as { policy: string; migrations: number; runs: number }[];
    const told = simulate(...args, "--param", "cslb_cost.link=8");
    expect([told.code, told.err]).toEqual([0, ""]);
    const plain = rows(simulate(...args));
    // CSLB is untouched; cslb-cost, told its link is ten times slower, migrates less.
    expect(rows(told)[1]).toEqual(plain[1]);
    expect(rows(told)[2]!.migrations).toBeLessThan(plain[2]!.migrations);
    const none = simulate(...args, "--param", "cslbx.band=3");
    expect([none.code, none.err]).toEqual([2, "vmpolicy simulate: --param cslbx.band=3: no simulated policy is named cslbx (policies: cslb, cslb_cost)\n"]);
  });

  it("warns about a policy whose plans have errors and counts them per run", () => {
    const file = join(tmp, "broken.policy");
    writeFileSync(
      file,
      `policy broken
script """
function boom(name) { throw new Error("no " + name); }
"""
rule poke
  for each host as h by h.name
  when boom(h.name) == 1
  then alert h.name
`,
    );
    const r = simulate("--iterations", "4", "--repeat", "9", "--duration", "5m", "--policy", file, "--json");
    expect(r.code).toBe(0);
    // Two hosts, a round every 10 s for 5 minutes: 30 rounds × 2 bindings per run.
    expect(JSON.parse(r.out).rows.map((x: { policy: string; plan_errors: number }) => [x.policy, x.plan_errors])).toEqual([["static", 0], ["broken", 60]]);
    expect(r.err).toBe(
      "vmpolicy simulate: warning: policy broken: 540 plan errors over the runs; those bindings planned nothing (first: broken.poke: script boom: Error: no xen1 (line 3 of the policy file))\n",
    );
  });

  it("--static alone simulates static placement only", () => {
    const r = simulate("--static", "--iterations", "4", "--repeat", "1", "--duration", "5m", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows.map((x: { policy: string }) => x.policy)).toEqual(["static"]);
  });

  it("--chart writes an SVG with axes, labels, a legend, 95% CIs, its scenario, repeats and seed, and the thesis's points", () => {
    const file = join(tmp, "chart.svg");
    const r = simulate("--sweep", "1,4,16", "--repeat", "9", "--chart", file, "--policy", "policies/cslb.policy", "--policy", "policies/examples/cslb-cost.policy");
    expect(r.code).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("iterations per VM before handover (log2 scale)");
    expect(svg).toContain("completed runs (mean, 95% CI)");
    expect(svg).toContain("thesis testbed (gap) — 9 repeats, seed 1; whiskers: 95% CI of the mean");
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    // Every line stays visible where they coincide: widths fall from the first to the last.
    const widths = [...svg.matchAll(/<polyline [^>]*stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([...widths].sort((a, b) => b - a));
    expect(new Set(widths).size).toBe(3);
    for (const label of [">static</text>", ">cslb</text>", ">cslb_cost</text>", ">1</text>", ">4</text>", ">16</text>", ">thesis 5.5, CSLB</text>", ">thesis 5.5, static pooled</text>"]) expect(svg).toContain(label);
    // Table 5.5's CSLB points at 1, 4 and 16 iterations, as open diamonds.
    expect(svg).toContain("<title>thesis 5.5, CSLB @ 1: 222.7</title>");
    expect(svg).toContain("<title>thesis 5.5, CSLB @ 16: 241.8</title>");
    expect(svg).toContain("<title>thesis 5.5, static pooled: 234.96</title>");
    // Balanced tags: every opened element is closed.
    expect((svg.match(/<(text|title|circle)\b/g) ?? []).length).toBe((svg.match(/<\/(text|title|circle)>/g) ?? []).length);
  }, 120_000);

  it("rejects a bad scenario with the key named, exit 1", () => {
    const file = join(tmp, "bad.yaml");
    writeFileSync(file, "hosts: [{ name: a, cpus: 0 }]\nvms: [{ name: v, host: a, mem: 1 }]\n");
    const r = simulate("--scenario", file, "--iterations", "1");
    expect(r.code).toBe(1);
    expect(r.err).toBe(`vmpolicy simulate: ${file}: hosts[0].cpus: must be a number > 0 (got 0)\n`);
    expect(r.out).toBe("");
  });

  it("runs a scenario file", () => {
    const file = join(tmp, "small.json");
    writeFileSync(file, JSON.stringify({ duration: "10m", hosts: [{ name: "a", cpus: 2 }, { name: "b", cpus: 2 }], vms: [{ name: "v1", host: "a", mem: 256 }, { name: "v2", host: "a", mem: 256 }, { name: "v3", host: "b", mem: 256 }], workload: { busy: 2, work: 60 } }));
    const r = simulate("--scenario", file, "--iterations", "2", "--repeat", "3", "--json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows).toHaveLength(2);
  });

  it("usage errors exit 2 with a message", () => {
    expect(simulate("--iterations", "0")).toMatchObject({ code: 2, err: 'vmpolicy simulate: --iterations: expected an integer ≥ 1, got "0"\n' });
    expect(simulate("--iterations", "2", "--sweep", "1,2")).toMatchObject({ code: 2, err: "vmpolicy simulate: give --iterations or --sweep, not both\n" });
    expect(simulate("--policy", join(tmp, "missing.policy"), "--iterations", "1").code).toBe(2);
    expect(simulate("--sweep", "1,x")).toMatchObject({ code: 2 });
    expect(simulate("--duration", "0.5s", "--iterations", "1")).toMatchObject({ code: 2, err: `vmpolicy simulate: --duration: must be at least the scenario's step, 1s (got "0.5s")\n` });
    expect(simulate("--duration", "1000h", "--iterations", "1")).toMatchObject({ code: 2, err: 'vmpolicy simulate: --duration: must be at most 30 days (2592000s) (got "1000h")\n' });
  }, 60_000);

  it("has --help", () => {
    const r = simulate("--help");
    expect(r.code).toBe(0);
    for (const flag of ["--scenario", "--policy", "--static", "--iterations", "--sweep", "--repeat", "--seed", "--duration", "--json", "--chart", "--thesis", "--markdown"]) expect(r.out).toContain(flag);
  });

  it("shows a progress bar on a terminal's stderr only (through script(1), a real pty)", () => {
    const args = "simulate --sweep 1,2,4,8 --repeat 9 --duration 10m";
    const tty = spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ${args} > /dev/null`, "/dev/null"], { cwd: ROOT, encoding: "utf8" });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toContain("\u2591"); // the bar's empty cells, written to the pty by stderr
    const piped = simulate(...args.split(" ").slice(1));
    expect(piped.code).toBe(0);
    expect(piped.err).toBe("");
  });

  it("notes a --repeat that is not a multiple of the benchmark VMs (starting placements unequally represented)", () => {
    const r = simulate("--static", "--iterations", "4", "--repeat", "5", "--duration", "5m", "--json");
    expect(r.code).toBe(0);
    expect(r.err).toBe("vmpolicy simulate: note: --repeat 5 is not a multiple of the 9 benchmark VMs, so not every starting placement is equally represented\n");
    expect(JSON.parse(r.out).rows[0].repeats).toBe(5);
    const d = simulate("--static", "--iterations", "4", "--duration", "5m", "--json");
    expect(d.err).toBe("");
    expect(JSON.parse(d.out).rows[0].repeats).toBe(9);
  });

  it("--thesis 5.1 --json: the SPEC 7 shape, thesis cells from the data file, both baselines, verdicts", () => {
    const r = simulate("--thesis", "5.1", "--repeat", "2", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { tables: { table: string; benchmark: string; rows: Record<string, unknown>[] }[] };
    expect(out.tables.map((t) => [t.table, t.benchmark])).toEqual([["5.1", "gap"]]);
    const [on, off] = out.tables[0]!.rows as Record<string, any>[];
    expect(Object.keys(on!)).toEqual(["label", "benchmark", "iterations", "policy", "thesis", "thesis_scaled", "model", "model_ci95", "vs_pooled_static", "vs_same_length_static", "verdict"]);
    expect(on!.thesis).toEqual({ runs: 243.406, vm_pct: 94.514, dom0_pct: 7.107, idle_pct: 1.226, engine_pct: 0.085 });
    expect(off!.thesis.runs).toBe(247.603);
    expect(on!.vs_pooled_static.thesis).toBe(-1.7);
    expect(typeof on!.vs_pooled_static.model).toBe("number");
    expect(typeof on!.vs_same_length_static.model).toBe("number");
    expect(Object.keys(on!.verdict)).toEqual(["runs", "vm_pct", "dom0_pct", "idle_pct", "engine_pct"]);
    for (const v of Object.values(on!.verdict)) expect(["match", "direction", "disagree"]).toContain(v);
    expect(Object.keys(on!.model)).toEqual(["runs", "vm_pct", "dom0_pct", "idle_pct", "engine_pct", "migrations"]);
  });

  it("--thesis prints a table per thesis table; bad tables and mixed options are usage errors", () => {
    const r = simulate("--thesis", "5.3", "--repeat", "2");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Table 5\.3: Benchmarks Measuring Overhead #3: Mesa Benchmark \(mesa; thesis pp\. 29–31\) — model: 2 repeats, seed 1\n/);
    expect(r.out).toContain("Mesa with Policy Engine");
    expect(r.out).toContain("Verdicts:");
    expect(simulate("--thesis", "5.9")).toMatchObject({ code: 2, err: 'vmpolicy simulate: --thesis: no table "5.9" (known: 5.1 5.2 5.3 5.4 5.5 5.6 5.7 5.8 6.1 all)\n' });
    expect(simulate("--thesis", "5.5", "--sweep", "1,2").code).toBe(2);
    expect(simulate("--markdown").code).toBe(2);
  });
});
