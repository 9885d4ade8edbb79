import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { AgentClient } from "../../../engine/hosts/client.js";
import { startAgent, type RunningAgent } from "../../../engine/hosts/agent/server.js";
import { QemuDriver, type QemuHostOptions } from "../../../engine/hosts/drivers/qemu/index.js";
import { BUSY_COUNTER_ADDRESS } from "../../../engine/hosts/drivers/qemu/process.js";
import { startProxy } from "../run/harness.js";
import { HAVE_QEMU, until } from "./qemu-harness.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function qemuAgent(name: string, opts: Partial<QemuHostOptions>, token?: string): Promise<RunningAgent & { driver: QemuDriver }> {
  const runDir = mkdtempSync(join(tmpdir(), `vmpolicy-qemu-${name}-`));
  cleanup.push(() => rmSync(runDir, { recursive: true, force: true }));
  // These tests end their agents as a host is lost: the guests go with them.
  const driver = await QemuDriver.create({ name, cpus: 2, mem: 1024, runDir, stopGuestsOnClose: true, ...opts });
  const a = await startAgent({ driver, listen: "127.0.0.1:0", token });
  cleanup.push(() => a.close());
  return a as RunningAgent & { driver: QemuDriver };
}

describe.skipIf(!HAVE_QEMU)("qemu driver", () => {
  it("live-migrates a real QEMU guest between two agents", async () => {
    const storage = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-storage-"));
    cleanup.push(() => rmSync(storage, { recursive: true, force: true }));
    const h1 = await qemuAgent("q1", { vms: [{ name: "g1", mem: 64, labels: { tier: "web" }, busy: true }, { name: "g0", mem: 32 }], storage }, "qt");
    const h2 = await qemuAgent("q2", { storage }, "qt");
    const c1 = new AgentClient({ url: h1.url, name: "q1", token: "qt" });
    const c2 = new AgentClient({ url: h2.url, name: "q2", token: "qt" });
    const before = await c1.facts();
    expect(before.vms.map((v) => [v.name, v.mem, v.labels])).toEqual([["g0", 32, {}], ["g1", 64, { tier: "web" }]]);
    for (const v of before.vms) expect(v.cpu).toBeGreaterThanOrEqual(0);
    const pid = (h1.driver as unknown as { vms: Map<string, { pid: number }> }).vms.get("g1")!.pid;

    // The busy guest counts in its memory. Pause it, read the count, migrate: the destination must hold the same count.
    const counter = async (driver: QemuDriver) => {
      const file = join(storage, `mem-${Math.random()}`);
      await driver.monitor("g1")!.execute("pmemsave", { val: BUSY_COUNTER_ADDRESS, size: 4, filename: file });
      return readFileSync(file).readUInt32LE(0);
    };
    await until(() => counter(h1.driver), (n) => n > 0, 20_000);
    await h1.driver.monitor("g1")!.execute("stop");
    const counted = await counter(h1.driver);
    expect(counted).toBeGreaterThan(0);

    const id = await c1.startMigration("g1", { name: "q2", url: h2.url });
    const end = await until(() => c1.migrationStatus(id), (s) => s.state !== "running");
    expect(end).toEqual({ state: "completed" });
    expect((await c1.facts()).vms.map((v) => v.name)).toEqual(["g0"]);
    expect((await c2.facts()).vms.map((v) => v.name)).toEqual(["g1"]);
    expect(await counter(h2.driver)).toBe(counted);
    expect(await h2.driver.monitor("g1")!.execute("query-status")).toMatchObject({ status: "paused" });
    await h2.driver.monitor("g1")!.execute("cont");
    const running = await until(() => counter(h2.driver), (n) => n > counted, 20_000);
    expect(running).toBeGreaterThan(counted);
    expect(JSON.parse(readFileSync(join(storage, "g1.json"), "utf8")).host).toBe("q2");

    // And back, live this time (the guest keeps counting throughout): the count goes on from where it was, not from 0.
    const back = await c2.startMigration("g1", { name: "q1", url: h1.url });
    expect(await until(() => c2.migrationStatus(back), (s) => s.state !== "running")).toEqual({ state: "completed" });
    expect(await h1.driver.monitor("g1")!.execute("query-status")).toMatchObject({ status: "running" });
    expect(await counter(h1.driver)).toBeGreaterThan(running);
    // The source's QEMU process is gone.
    await until(async () => spawnSync("kill", ["-0", String(pid)]).status, (s) => s !== 0, 5000);
    expect(spawnSync("kill", ["-0", String(pid)]).status).not.toBe(0);
  }, 60_000);

  it("fails cleanly when the destination cannot take the guest", async () => {
    const h1 = await qemuAgent("q3", { vms: [{ name: "g2", mem: 64 }] });
    const h2 = await qemuAgent("q4", { mem: 32 });
    const c1 = new AgentClient({ url: h1.url, name: "q3" });
    const id = await c1.startMigration("g2", { name: "q4", url: h2.url });
    const end = await until(() => c1.migrationStatus(id), (s) => s.state !== "running");
    expect(end).toEqual({
      state: "failed",
      error: `agent q4 (${h2.url}) POST /incoming/prepare: answered 409: not enough memory on q4 for g2: needs 64 MiB, has 32 MiB free`,
    });
    expect(h1.driver.vmNames()).toEqual(["g2"]);
  }, 60_000);

  it("a lost hand-over strands nothing: the destination adopts the guest by itself, the source drops its copy", async () => {
    const storage = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-storage-"));
    cleanup.push(() => rmSync(storage, { recursive: true, force: true }));
    const h1 = await qemuAgent("q7", { vms: [{ name: "g4", mem: 32, busy: true }], storage });
    const h2 = await qemuAgent("q8", { storage });
    const proxy = await startProxy(h2.url);
    cleanup.push(proxy.close);
    // The destination never hears the hand-over: the connection is cut.
    proxy.intercept((method, path) => (method === "POST" && path === "/incoming" ? "drop" : null));
    const c1 = new AgentClient({ url: h1.url, name: "q7" });
    const id = await c1.startMigration("g4", { name: "q8", url: proxy.url });
    expect(await until(() => c1.migrationStatus(id), (s) => s.state !== "running")).toEqual({ state: "completed" });
    expect(h1.driver.vmNames()).toEqual([]);
    await until(async () => h2.driver.vmNames(), (names) => names.length === 1, 10_000);
    expect(h2.driver.vmNames()).toEqual(["g4"]);
    expect(await h2.driver.monitor("g4")!.execute("query-status")).toMatchObject({ status: "running" });
    expect(JSON.parse(readFileSync(join(storage, "g4.json"), "utf8")).host).toBe("q8");
  }, 60_000);

  it("a hand-over the destination refuses stops its copy and resumes the guest on the source", async () => {
    const h1 = await qemuAgent("q9", { vms: [{ name: "g5", mem: 32, busy: true }] });
    const h2 = await qemuAgent("q10", {});
    const proxy = await startProxy(h2.url);
    cleanup.push(proxy.close);
    proxy.intercept((method, path) => (method === "POST" && path === "/incoming" ? { status: 409, body: { error: "incoming VM g5 on q10 is internal-error, not running" } } : null));
    const c1 = new AgentClient({ url: h1.url, name: "q9" });
    const id = await c1.startMigration("g5", { name: "q10", url: proxy.url });
    expect(await until(() => c1.migrationStatus(id), (s) => s.state !== "running")).toEqual({
      state: "failed",
      error: `agent q10 (${proxy.url}) POST /incoming: answered 409: incoming VM g5 on q10 is internal-error, not running; g5 resumed on q9`,
    });
    expect(h2.driver.vmNames()).toEqual([]);
    expect(h1.driver.vmNames()).toEqual(["g5"]);
    expect(await h1.driver.monitor("g5")!.execute("query-status")).toMatchObject({ status: "running" });
  }, 60_000);

  it("restarts a lost host's guest from shared storage", async () => {
    const storage = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-storage-"));
    cleanup.push(() => rmSync(storage, { recursive: true, force: true }));
    const lost = await qemuAgent("q5", { vms: [{ name: "g3", mem: 32, vcpus: 2 }], storage });
    const here = await qemuAgent("q6", { storage });
    await lost.close(); // its guests stop with it: the host is lost
    const c = new AgentClient({ url: here.url, name: "q6" });
    const r = await c.restart("g3", "q5");
    expect(r.status).toEqual({ state: "completed" });
    expect((await c.facts()).vms.map((v) => [v.name, v.mem])).toEqual([["g3", 32]]);
    await expect(c.restart("g3", "q5")).rejects.toThrow(`agent q6 (${here.url}) POST /restarts: answered 409: VM g3 last ran on q6, not q5: refusing to start a second copy`);
  }, 60_000);

  it("runs as a process (vmpolicy agent --driver qemu) and, with --stop-guests-on-exit, stops its guests on SIGTERM", async () => {
    const CLI = join(import.meta.dirname, "../../../dist/bin/vmpolicy.js");
    const runDir = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-cli-"));
    cleanup.push(() => rmSync(runDir, { recursive: true, force: true }));
    const child = spawn(process.execPath, [CLI, "agent", "--driver", "qemu", "--name", "qc", "--listen", "127.0.0.1:0", "--run-dir", runDir, "--vms", "cg1:32", "--cpus", "2", "--mem", "512", "--stop-guests-on-exit"], { stdio: ["ignore", "pipe", "pipe"] });
    cleanup.push(() => void child.kill("SIGKILL"));
    const url = await new Promise<string>((res, rej) => {
      let err = "";
      child.stderr!.on("data", (d) => (err += d));
      child.on("exit", (code) => rej(new Error(`agent exited ${code}: ${err}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const m = /listening on (http:\/\/[^"]+)"/.exec(line);
        if (m) res(m[1]!);
      });
    });
    const facts = await new AgentClient({ url }).facts();
    expect([facts.name, facts.cpus, facts.mem, facts.vms.map((v) => v.name)]).toEqual(["qc", 2, 512, ["cg1"]]);
    const guests = () => spawnSync("pgrep", ["-f", `guest=cg1 `]).stdout.toString().trim();
    expect(guests()).not.toBe("");
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(guests()).toBe("");
  }, 60_000);
});

describe("qemu driver measured host facts (/proc)", () => {
  it("a host busy outside its VMs shows it as other_cpu, measured on the agent's clock; mem_avail from MemAvailable", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-measured-"));
    cleanup.push(() => rmSync(runDir, { recursive: true, force: true }));
    // No guests: no QEMU needed. The window covers the spinner's whole run.
    const driver = await QemuDriver.create({ name: "q9", cpus: 2, mem: 1024, runDir, sampleMs: 100, windowMs: 1500 });
    cleanup.push(() => driver.close());
    const spinner = spawn(process.execPath, ["-e", "const end = Date.now() + 2500; while (Date.now() < end);"], { stdio: "ignore" });
    cleanup.push(() => void spinner.kill("SIGKILL"));
    await new Promise((r) => setTimeout(r, 1800));
    const facts = await driver.facts();
    // One process spinning: close to a whole CPU (the rest of this machine adds to it; 2 cores shared, so leave room).
    expect(facts.other_cpu).toBeGreaterThan(50);
    // At most this machine's CPUs, give or take /proc's 10 ms ticks.
    expect(facts.other_cpu).toBeLessThanOrEqual(cpus().length * 100 + 10);
    expect(facts.mem_avail).toBeGreaterThan(0);
    expect(facts.measured).toEqual(["cpu", "other_cpu", "mem_avail"]);
    // Asking again at once changes nothing the engine would see: the same window.
    expect((await driver.facts()).other_cpu).toBeCloseTo(facts.other_cpu!, -1);
  });
});
