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

const KEYS = ["iterations", "policy", "runs", "runs_sd", "vm_pct", "dom0_pct", "idle_pct", "engine_pct", "migrations", "migrations_sd", "pingpong", "served_pct", "plan_errors", "repeats"];

describe("vmpolicy simulate", () => {
  it("prints one JSON row per (iterations, policy), static first, and is deterministic", () => {
    const a = simulate("--sweep", "1,64", "--repeat", "2", "--duration", "20m", "--json");
    expect(a.err).toBe("");
    expect(a.code).toBe(0);
    const rows = JSON.parse(a.out).rows as Record<string, unknown>[];
    expect(rows.map((r) => [r.iterations, r.policy])).toEqual([[1, "static"], [1, "cslb"], [64, "static"], [64, "cslb"]]);
    for (const r of rows) expect(Object.keys(r)).toEqual(KEYS);
    expect(rows[0]!.engine_pct).toBe(0);
    expect(rows[0]!.migrations).toBe(0);
    expect(rows[1]!.engine_pct).toBeGreaterThan(0);
    const b = simulate("--sweep", "1,64", "--repeat", "2", "--duration", "20m", "--json");
    expect(b.out).toBe(a.out);
    const c = simulate("--sweep", "1,64", "--repeat", "2", "--duration", "20m", "--json", "--seed", "2");
    expect(c.out).not.toBe(a.out);
  });

  it("compares several policies and prints a table like Table 5.5", () => {
    const r = simulate("--iterations", "8", "--repeat", "2", "--duration", "10m", "--policy", "policies/cslb.policy", "--policy", "policies/examples/cslb-steady.policy");
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^iterations\s+policy\s+runs\s+±sd\s+vs static\s+VM%\s+Dom0%\s+Idle%\s+engine%\s+migrations\s+ping-pong$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/).filter(Boolean)[l.startsWith("8") ? 1 : 0])).toEqual(["static", "cslb", "cslb_steady"]);
    expect(lines[3]).toMatch(/[+-]\d+\.\d%/);
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
    const r = simulate("--iterations", "4", "--repeat", "2", "--duration", "5m", "--policy", file, "--json");
    expect(r.code).toBe(0);
    // Two hosts, a round every 10 s for 5 minutes: 30 rounds × 2 bindings per run.
    expect(JSON.parse(r.out).rows.map((x: { policy: string; plan_errors: number }) => [x.policy, x.plan_errors])).toEqual([["static", 0], ["broken", 60]]);
    expect(r.err).toBe(
      "vmpolicy simulate: warning: policy broken: 120 plan errors over the runs; those bindings planned nothing (first: broken.poke: script boom: Error: no xen1 (line 3 of the policy file))\n",
    );
  });

  it("--static alone simulates static placement only", () => {
    const r = simulate("--static", "--iterations", "4", "--repeat", "1", "--duration", "5m", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows.map((x: { policy: string }) => x.policy)).toEqual(["static"]);
  });

  it("--chart writes an SVG with axes, labels and a legend", () => {
    const file = join(tmp, "chart.svg");
    const r = simulate("--sweep", "1,4,16", "--repeat", "1", "--duration", "10m", "--chart", file);
    expect(r.code).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("iterations per VM before handover (log2 scale)");
    expect(svg).toContain("completed runs (mean ± sd)");
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    for (const label of [">static</text>", ">cslb</text>", ">1</text>", ">4</text>", ">16</text>"]) expect(svg).toContain(label);
    // Balanced tags: every opened element is closed.
    expect((svg.match(/<(text|title|circle)\b/g) ?? []).length).toBe((svg.match(/<\/(text|title|circle)>/g) ?? []).length);
  });

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
    const r = simulate("--scenario", file, "--iterations", "2", "--repeat", "1", "--json");
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
  });

  it("has --help", () => {
    const r = simulate("--help");
    expect(r.code).toBe(0);
    for (const flag of ["--scenario", "--policy", "--static", "--iterations", "--sweep", "--repeat", "--seed", "--duration", "--json", "--chart"]) expect(r.out).toContain(flag);
  });

  it("shows a progress bar on a terminal's stderr only (through script(1), a real pty)", () => {
    const args = "simulate --sweep 1,2,4,8 --repeat 3 --duration 10m";
    const tty = spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ${args} > /dev/null`, "/dev/null"], { cwd: ROOT, encoding: "utf8" });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toContain("\u2591"); // the bar's empty cells, written to the pty by stderr
    const piped = simulate(...args.split(" ").slice(1));
    expect(piped.code).toBe(0);
    expect(piped.err).toBe("");
  });
});
