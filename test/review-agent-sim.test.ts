/**
 * Review of the host agent, its drivers and the simulator: the shared
 * operation log of the drivers, the token on the agent-to-agent routes, and
 * scenario counts that must be whole numbers; edge cases of the simulator
 * (no VMs, one host).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgentApp } from "../engine/agent/server.js";
import type { OperationStatus } from "../engine/drivers/driver.js";
import { OperationLog, type OperationEntry } from "../engine/drivers/operations.js";
import { QemuDriver } from "../engine/drivers/qemu.js";
import { VirshDriver } from "../engine/drivers/virsh.js";
import { XlDriver } from "../engine/drivers/xl.js";
import { ManualClock } from "../engine/drivers/sim-clock.js";
import { SimDriver } from "../engine/drivers/sim.js";
import { loadPolicySet } from "../engine/policy-set.js";
import type { CompiledPolicySet } from "../grammar/compile-types.js";
import { simulateOnce } from "../engine/simulator/runner.js";
import { loadScenarioFile } from "../engine/simulator/scenario-load.js";
import { thesisScenario } from "../engine/simulator/scenario.js";
import { FakeTools } from "./fixtures/xl/fake-tools.js";

const HAVE_QEMU = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;

const entry = (kind: OperationEntry["kind"], vm: string, state: OperationStatus["state"]): OperationEntry => ({ kind, vm, status: { state } });

describe("OperationLog (the drivers' migrations and restarts by id)", () => {
  it("answers by kind, and an unknown id is undefined", () => {
    const log = new OperationLog<OperationEntry>();
    log.add("m1", entry("migration", "a", "running"));
    log.add("r1", entry("restart", "b", "completed"));
    expect(log.status("migration", "m1")).toEqual({ state: "running" });
    expect(log.status("restart", "m1")).toBeUndefined();
    expect(log.status("restart", "r1")).toEqual({ state: "completed" });
    expect(log.status("migration", "nope")).toBeUndefined();
  });

  it("past its limit forgets the oldest finished operation, never a running one", () => {
    const log = new OperationLog<OperationEntry>(2);
    log.add("old-running", entry("migration", "a", "running"));
    log.add("done", entry("migration", "b", "completed"));
    log.add("new", entry("migration", "c", "failed"));
    expect(log.get("old-running")).toBeDefined();
    expect(log.get("done")).toBeUndefined();
    expect(log.get("new")).toBeDefined();
    expect(log.running().map(([id]) => id)).toEqual(["old-running"]);
  });

  it("a sim agent keeps a running migration answerable after 1000 later restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vmpolicy-review-ops-"));
    const clock = new ManualClock();
    const d = new SimDriver({ name: "h1", cpus: 1, mem: 1 << 20, vms: [{ name: "moving", mem: 1024 }], clock, storage: dir });
    const h2 = await fakePeer("h2", {});
    // The manual clock never moves: the migration stays running throughout.
    const id = await d.startMigration("moving", { name: "h2", url: h2.url });
    // Restarts of VMs lost with h0, each recorded as a completed operation.
    const other = new SimDriver({ name: "h0", cpus: 1, mem: 1 << 20, vms: Array.from({ length: 1001 }, (_, i) => ({ name: `v${i}`, mem: 1 })), clock, storage: dir });
    const first = (await d.restart("v0", "h0")).id;
    for (let i = 1; i < 1001; i++) await d.restart(`v${i}`, "h0");
    expect(d.migrationStatus(id)?.state).toBe("running");
    expect(d.restartStatus(first)).toBeUndefined();
    await d.close();
    await other.close();
    await h2.close();
  });
});

describe("agent token on the agent-to-agent routes", () => {
  it("refuses /incoming, /incoming/prepare, /incoming/abort and /restarts/ID without the token", async () => {
    const app = buildAgentApp(new SimDriver({ name: "h1", cpus: 1, mem: 1024, clock: new ManualClock() }), "s3cret");
    const vm = { name: "x", mem: 1, vcpus: 1, labels: {}, pinned: false, host: "h2" };
    for (const [method, url, payload] of [
      ["POST", "/incoming", { vm, from: "h2" }],
      ["POST", "/incoming/prepare", { vm, from: "h2" }],
      ["POST", "/incoming/abort", { vm: "x", from: "h2" }],
      ["GET", "/restarts/abc", undefined],
    ] as const) {
      const r = await app.inject({ method, url, payload });
      expect([url, r.statusCode]).toEqual([url, 401]);
    }
    const ok = await app.inject({ method: "POST", url: "/incoming", payload: { vm, from: "h2" }, headers: { authorization: "Bearer s3cret" } });
    expect(ok.statusCode).toBe(201);
    await app.close();
  });
});

describe("scenario counts", () => {
  it("are whole numbers, named by key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vmpolicy-review-scenario-"));
    const path = join(dir, "frac.yaml");
    await writeFile(
      path,
      [
        "hosts: [{ name: a, cpus: 4 }]",
        "vms: [{ name: v1, mem: 512, vcpus: 1.5 }, { name: v2, mem: 512 }]",
        "workload: { busy: 1.5, iterations: 2.5 }",
        "engine: { max_per_host: 1.5, max_per_round: 0 }",
      ].join("\n"),
    );
    const r = await loadScenarioFile(path);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      `${path}: vms[0].vcpus: must be a whole number ≥ 1 (got 1.5)`,
      `${path}: workload.busy: must be a whole number ≥ 0 (got 1.5)`,
      `${path}: workload.iterations: must be a whole number ≥ 1 (got 2.5)`,
      `${path}: engine.max_per_host: must be a whole number ≥ 1 (got 1.5)`,
      `${path}: engine.max_per_round: must be a whole number ≥ 1 (got 0)`,
    ]);
  });
});

describe("simulator edge cases", () => {
  let cslb: CompiledPolicySet;
  beforeAll(async () => {
    const loaded = await loadPolicySet([{ file: "policies/cslb.policy", text: await readFile("policies/cslb.policy", "utf8") }]);
    cslb = loaded.set!;
  });
  afterAll(() => cslb.dispose());

  it("a cluster without VMs runs nothing, migrates nothing, and its accounting sums to 100%", () => {
    const base = thesisScenario();
    const empty = { ...base, duration: 600, vms: [], workload: { ...base.workload, busy: 0 } };
    for (const set of [null, cslb]) {
      const r = simulateOnce(empty, set, 1);
      expect([r.runs, r.migrations, r.served_pct]).toEqual([0, 0, 100]);
      expect(r.vm_pct + r.dom0_pct + r.idle_pct + r.engine_pct).toBeCloseTo(100, 6);
    }
  });

  it("one host: nowhere to migrate, so CSLB completes what static does less the engine's cost", () => {
    const base = thesisScenario();
    const one = { ...base, duration: 1200, hosts: [base.hosts[0]!], vms: base.vms.map((v) => ({ ...v, host: "xen1" })) };
    const fixed = simulateOnce(one, null, 2, 0);
    const dynamic = simulateOnce(one, cslb, 2, 0);
    expect(dynamic.migrations).toBe(0);
    expect(dynamic.runs).toBeLessThanOrEqual(fixed.runs);
    expect(dynamic.engine_pct).toBeGreaterThan(0);
  });
});

/** A fake destination agent: answers `/facts` with `name` and `/incoming/prepare` with `prepared`. */
async function fakePeer(name: string, prepared: unknown): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/facts") res.end(JSON.stringify({ name, state: "up", cpus: 1, mem: 1024, labels: {}, vms: [] }));
      else if (req.url === "/healthz") res.end(JSON.stringify({ ok: true, name, driver: "fake" }));
      else if (req.url === "/incoming/prepare") res.writeHead(201).end(JSON.stringify(prepared));
      else res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, close: () => new Promise((r) => server.close(() => r())) };
}

describe("destinations a migration command would misread", () => {
  it("xl and virsh refuse a destination address starting with '-' (ssh would take it as an option)", async () => {
    const f = new FakeTools().fixture("xl", "list", "xl/xl-list-l.json").fixture("virsh", "list", "virsh/list-name.txt");
    try {
      const xl = new XlDriver({ name: "xen1", xlBinary: f.path("xl"), checkPeer: false });
      const virsh = new VirshDriver({ name: "kvm1", virshBinary: f.path("virsh"), checkPeer: false });
      const url = "http://-oproxycommand=touch${IFS}pwned:7071";
      for (const [d, vm] of [[xl, "web1"], [virsh, "app1"]] as const) {
        await expect(d.startMigration(vm, { name: "evil", url })).rejects.toMatchObject({
          status: 400,
          message: `the address "-oproxycommand=touch\${ifs}pwned" of evil starts with "-": refusing to pass it to ${d.kind} migrate`,
        });
        await expect(d.startMigration(vm, { name: "evil2", url: "http://ok:1" }).then(() => d.close())).resolves.toBeUndefined();
      }
      await expect(new XlDriver({ name: "xen1", xlBinary: f.path("xl"), checkPeer: false, migrateHosts: { x: "-J" } }).startMigration("web1", { name: "x", url: "http://x:1" })).rejects.toMatchObject({ status: 400 });
      expect(f.calls().filter((c) => c[1] === "migrate" || c.includes("migrate")).flat().join(" ")).not.toMatch(/oproxycommand|-J/);
    } finally {
      f.cleanup();
    }
  });

  it.skipIf(!HAVE_QEMU)("qemu refuses a prepared migration URI other than tcp:HOST:PORT (exec: would run a command)", async () => {
    const runDir = await mkdtemp(join(tmpdir(), "vmpolicy-review-qemu-"));
    const marker = join(runDir, "pwned");
    const peer = await fakePeer("evil", { uri: `exec:touch ${marker}` });
    const d = await QemuDriver.create({ name: "q1", cpus: 1, mem: 512, runDir, vms: [{ name: "g1", mem: 32 }] });
    try {
      const id = await d.startMigration("g1", { name: "evil", url: peer.url });
      let s = d.migrationStatus(id);
      for (let i = 0; i < 200 && s?.state === "running"; i++) {
        await new Promise((r) => setTimeout(r, 25));
        s = d.migrationStatus(id);
      }
      expect(s).toEqual({ state: "failed", error: `agent evil prepared the migration URI ${JSON.stringify(`exec:touch ${marker}`)}, not tcp:HOST:PORT` });
      expect(existsSync(marker)).toBe(false);
      expect(peer.paths).toContain("POST /incoming/abort");
      expect(d.vmNames()).toEqual(["g1"]);
    } finally {
      await d.close();
      await peer.close();
    }
  }, 30_000);
});

describe("vmpolicy simulate --seed", () => {
  it("refuses a seed beyond 32 bits instead of wrapping it onto another seed", async () => {
    const { runSimulate } = await import("../bin/commands/simulate.js");
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      expect(await runSimulate({ seed: "4294967297", repeat: "1", iterations: "1", static: true })).toBe(2);
    } finally {
      process.stderr.write = original;
    }
    expect(written.join("")).toBe('vmpolicy simulate: --seed: expected an integer from 0 to 4294967295, got "4294967297"\n');
  });
});

describe("sim host names", () => {
  it("are refused when no peer could name them in a migration or restart", () => {
    expect(() => new SimDriver({ name: "my host", cpus: 1, mem: 1 })).toThrow('bad host name "my host": letters, digits, "_", "-", "." only');
    expect(() => new SimDriver({ name: "", cpus: 1, mem: 1 })).toThrow('bad host name "": letters, digits, "_", "-", "." only');
  });
});
