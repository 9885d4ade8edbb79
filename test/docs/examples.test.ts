/**
 * The examples the README and docs point a newcomer at must keep working:
 * the scenario file in docs/examples loads and simulates, and the README's
 * `my.policy` gives exactly the three errors the README prints, and
 * docs/stability.md's `plan --rounds` session is what the CLI prints.
 */
import { describe, expect, it } from "vitest";
import { checkTexts, rows } from "../grammar/checker-helpers.js";
import { loadScenarioFile } from "../../engine/simulator/scenario-load.js";
import { simulateOnce } from "../../engine/simulator/runner.js";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

describe("the examples in the README and docs/", () => {
  it("docs/examples/three-hosts.yaml loads and simulates, its trace VMs served", async () => {
    const r = await loadScenarioFile("docs/examples/three-hosts.yaml");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.scenario.hosts.map((h) => h.name)).toEqual(["a", "b", "c"]);
    expect(r.scenario.vms.filter((v) => v.trace).map((v) => v.name)).toEqual(["web1", "web2"]);
    const result = simulateOnce(r.scenario, null, 1);
    expect(result.runs).toBeGreaterThan(0);
    expect(result.served_pct).toBeGreaterThan(90);
  });

  it("docs/examples/horizon-probe.mjs (docs/simulation.md's probe) runs on the built simulator and prints its three figures", () => {
    const r = spawnSync(process.execPath, ["docs/examples/horizon-probe.mjs", "two-gib", "64", "1"], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^two-gib, 64 iterations, 1 repeats: [1-9]\d* migrations planned by CSLB$/);
    expect(lines.slice(1).map((l) => l.replace(/[\d∞]+|Infinity/g, "N"))).toEqual([
      "  horizon from cpu_avg (previous):    median N s (pN N, pN N)",
      "  horizon from cpu_changes (now):     median N s (pN N, pN N)",
      "  next hand-over on either host:      median N s (pN N, pN N); mean N s over the N that came within the run",
    ]);
  });

  it("the README's my.policy gives the three errors the README shows", () => {
    const readme = readFileSync("README.md", "utf8");
    const block = /Save this as `my.policy`[^\n]*\n\n((?: {4}.*\n|\n)+?)\nand/.exec(readme);
    expect(block).not.toBeNull();
    const text = block![1]!.replace(/^ {4}/gm, "");
    expect(rows(checkTexts([["my.policy", text]]).diagnostics)).toEqual([
      ["T202", 5, 21, "unknown field `lod` of host; did you mean `load`?"],
      ["T203", 11, 12, "unknown group `heavyy` in policy mine; did you mean `heavy`?"],
      ["T218", 14, 16, "`migrate` needs a vm, then a host: these are the other way round; did you mean `migrate vm to dst`?"],
    ]);
  });

  it("docs/stability.md shows what plan --rounds prints on docs/examples/pingpong.json, and its exit status", () => {
    const doc = readFileSync("docs/stability.md", "utf8");
    const session = /```console\n\$ vmpolicy plan --facts docs\/examples\/pingpong.json --rounds\n([\s\S]*?)\$ echo \$\?\n(\d+)\n```/.exec(doc);
    expect(session).not.toBeNull();
    const r = spawnSync(process.execPath, ["dist/bin/vmpolicy.js", "plan", "--facts", "docs/examples/pingpong.json", "--rounds"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.stdout).toBe(session![1]);
    expect(String(r.status)).toBe(session![2]);
  });
});
