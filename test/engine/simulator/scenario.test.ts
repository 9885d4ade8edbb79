import { describe, it, expect, beforeAll } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenarioFile } from "../../../engine/simulator/scenario-load.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vmpolicy-scenario-"));
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("scenario files", () => {
  it("an empty mapping is the thesis testbed", async () => {
    const r = await loadScenarioFile(await write("empty.yaml", "{}\n"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.hosts.map((h) => [h.name, h.cpus, h.cores])).toEqual([["xen1", 8, 4], ["xen2", 8, 4]]);
    expect(r.scenario.vms).toHaveLength(9);
    expect(r.scenario.workload.busy).toBe(8);
  });

  it("reports every bad key with its path", async () => {
    const path = await write(
      "bad.yaml",
      [
        "duration: forever",
        "colour: blue",
        "hosts:",
        "  - { name: a, cpus: 4 }",
        "  - { name: b, cpus: -2, cores: 1 }",
        "vms:",
        "  - { name: v1, host: a, mem: 512 }",
        "  - { name: v1, host: c, mem: 0 }",
        "workload: { busy: 5, iterationz: 3 }",
        "",
      ].join("\n"),
    );
    const r = await loadScenarioFile(path);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      `${path}: colour: unknown key (known: duration, step, hosts, vms, trace, workload, migration, engine)`,
      `${path}: hosts[1].cpus: must be a number > 0 (got -2)`,
      `${path}: vms[1].host: unknown host "c" (hosts: a, b)`,
      `${path}: vms[1].mem: must be a number > 0 (got 0)`,
      `${path}: vms: duplicate name "v1"`,
      `${path}: workload.iterationz: unknown key (known: busy, work, iterations, idle_cpu, run_gap, startup, startup_dom0)`,
      `${path}: workload.busy: must be ≤ the 2 VMs without a trace`,
      `${path}: duration: must be a duration such as 30s, 5m, 2h or a number of seconds (got "forever")`,
    ]);
  });

  it("rejects malformed YAML and JSON with the file named", async () => {
    const r = await loadScenarioFile(await write("broken.json", "{ hosts: "));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/broken\.json: not valid JSON: /);
  });

  it("drives trace VMs from a CSV and reports the share of demand served", async () => {
    await write("trace.csv", "time,web,db\n0,100,50\n60,300,50\n120,0,50\n");
    const path = await write(
      "trace.yaml",
      [
        "duration: 180",
        "trace: trace.csv",
        "hosts: [{ name: h, cpus: 2, dom0: 0 }]",
        "vms:",
        "  - { name: web, host: h, mem: 512, vcpus: 2 }",
        "  - { name: db, host: h, mem: 512 }",
        "workload: { busy: 0 }",
        "",
      ].join("\n"),
    );
    const r = await loadScenarioFile(path);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.vms[0]!.trace).toEqual({ times: [0, 60, 120], values: [100, 300, 0], period: 180 });
    const result = simulateOnce(r.scenario, null, 1);
    // Demand: web 100, 200 (capped at 2 vCPUs), 0; db 50 throughout. Capacity 200:
    // minute 1 all served (150), minute 2 fair shares 150 + 50 of 250, minute 3 all (50).
    // served = (150 + 200 + 50) / (150 + 250 + 50) = 400 / 450.
    expect(result.served_pct).toBeCloseTo((100 * 400) / 450, 6);
    expect(result.runs).toBe(0);
    expect(result.vm_pct).toBeCloseTo((100 * 400) / 600, 6);
  });

  it("names the line of a bad trace", async () => {
    await write("bad.csv", "time,web\n0,10\n0,20\n");
    const path = await write("badtrace.yaml", "trace: bad.csv\nhosts: [{ name: h, cpus: 1 }]\nvms: [{ name: web, host: h, mem: 256 }]\n");
    const r = await loadScenarioFile(path);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([`${path}: trace: ${join(dir, "bad.csv")}:3: time 0 is not after 0`]);
  });
});
