/**
 * `vmpolicy plan` as a process (the built CLI, `npm run build` first):
 * exit codes, the JSON of SPEC 3, the readable form, bad facts with their
 * paths, policy errors as `vmpolicy check` prints them, unknown params.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./scenarios/helpers.js";

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
    const expected = JSON.parse(readFileSync(join(ROOT, "test/scenarios/cslb-thesis-two-hosts/plan.json"), "utf8"));
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

  it("exits 2 when a file cannot be read", () => {
    expect(plan("--facts", join(tmp, "missing.json")).code).toBe(2);
    expect(plan("--facts", THESIS, "--policy", join(tmp, "missing.policy")).code).toBe(2);
  });
});
