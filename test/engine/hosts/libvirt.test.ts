import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentClient } from "../../../engine/hosts/client.js";
import { startAgent, type RunningAgent } from "../../../engine/hosts/agent/server.js";
import { VirshDriver } from "../../../engine/hosts/drivers/virsh/index.js";
import { libvirtMissing, spinningGuest, startPair, stopPair, virsh } from "../../fixtures/libvirt/pair.js";
import { journalOf, startEngine, testConfig } from "../run/harness.js";

// Two real libvirtd instances (test/fixtures/libvirt/pair.sh), two virsh agents, the engine with the default policies.
const missing = libvirtMissing();
const CI = process.env.CI === "true";

// Never a silent skip: CI must have the packages (.ci/run installs them) and fails without; elsewhere the skip says why.
describe.runIf(missing !== undefined)("libvirt", () => {
  it(`two real daemons skipped: ${missing ?? "(they can run here)"}`, () => {
    if (CI) throw new Error(`CI must run the libvirt tests, but ${missing}`);
  });
});

// libvirt's built-in test driver needs only virsh (no daemon, no root).
const virshMissing = spawnSync("sh", ["-c", "command -v virsh"]).status === 0 ? undefined : "virsh is not installed (Debian: apt-get install libvirt-clients)";

describe("virsh driver against libvirt's test:///default", () => {
  it.runIf(virshMissing !== undefined)(`skipped: ${virshMissing ?? "(virsh is installed)"}`, () => {
    if (CI) throw new Error(`CI must run this: ${virshMissing}`);
  });

  it.skipIf(virshMissing !== undefined)("reports the test domain from dominfo where domstats has no cpu.time or balloon, and no mem_avail where nodememstats is unsupported", async () => {
    const driver = new VirshDriver({ name: "t1", connect: "test:///default", sampleMs: 100 });
    try {
      const facts = await driver.facts();
      // nodeinfo: 16 CPUs, 3145728 KiB = 3072 MiB less 1024; dominfo: "Used memory: 2097152 KiB", "CPU(s): 2".
      expect({ ...facts, vms: facts.vms.map((v) => ({ ...v, cpu: typeof v.cpu })) }).toEqual({
        name: "t1",
        state: "up",
        cpus: 16,
        mem: 2048,
        labels: {},
        vms: [{ name: "test", cpu: "number", mem: 2048, labels: {}, pinned: false }],
        other_cpu: facts.other_cpu,
        measured: ["cpu", "other_cpu"],
      });
      expect(facts.other_cpu).toBeGreaterThanOrEqual(0);
    } finally {
      await driver.close();
    }
  });
});

const t0 = Date.now();
const log = (m: string) => process.env.VMPOLICY_TEST_TRACE && console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}`);

describe.skipIf(missing !== undefined)("libvirt: two real daemons", () => {
  let root = "";
  let uris = new Map<string, string>();
  const agents: RunningAgent[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "vmpolicy-libvirt-"));
    uris = startPair(root, ["a", "b"]);
    log("daemons up");
  }, 120_000);

  afterAll(async () => {
    // The daemons and their QEMUs go first, whatever happens to the agents (a slow close must not leave them running).
    try {
      stopPair(root);
    } finally {
      await Promise.all(agents.splice(0).map((a) => a.close()));
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  async function virshAgent(name: string, uri: string): Promise<RunningAgent> {
    // cpus: 1 declared so the test does not depend on this machine's core count.
    const driver = new VirshDriver({ name, connect: uri, migrationAddress: "127.0.0.1", cpus: 1, sampleMs: 500, windowMs: 3000, graceMs: 1000 });
    const agent = await startAgent({ driver, listen: "127.0.0.1:0" });
    agents.push(agent);
    return agent;
  }

  it("the engine with the default policies live-migrates a busy guest from one daemon to the other, once", async () => {
    const A = uris.get("a")!;
    const B = uris.get("b")!;
    virsh(A, "define", spinningGuest(root, "g1"));
    virsh(A, "start", "g1");
    log("g1 started");
    const a = await virshAgent("kvmA", A);
    const b = await virshAgent("kvmB", B);
    // Generous timeouts: on a loaded machine each virsh call can take a second.
    const ca = new AgentClient({ url: a.url, name: "kvmA", timeoutMs: 20_000 });
    const cb = new AgentClient({ url: b.url, name: "kvmB", timeoutMs: 20_000 });

    // The guest spins: its CPU, measured over the agent's window, nears one full CPU on an idle machine
    // (on one busy with other work, TCG gets a share: 5 % is enough for the band below).
    let facts = await ca.facts();
    for (const end = Date.now() + 30_000; !((facts.vms[0]?.cpu ?? 0) > 5) && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 250));
      facts = await ca.facts();
    }
    expect(facts.vms.map((v) => [v.name, v.mem])).toEqual([["g1", 128]]);
    expect(facts.vms[0]!.cpu).toBeGreaterThan(5);
    log(`g1 at ${facts.vms[0]!.cpu} % on kvmA`);
    expect(facts.measured).toEqual(["cpu", "other_cpu", "mem_avail"]);
    expect(facts.other_cpu).toBeGreaterThanOrEqual(0);
    expect(facts.mem_avail).toBeGreaterThan(0);
    expect((await cb.facts()).vms).toEqual([]);

    // The default policies; a narrow band (the default 10 needs the guest above 20 % of its 1-CPU host) so a machine busy with other work still shows kvmA heavy.
    const { engine } = await startEngine(testConfig([{ name: "kvmA", url: a.url }, { name: "kvmB", url: b.url }], { agent_timeout: 10, down_after: 60, params: ["cslb.band=2"] }));
    try {
      log("engine started");
      const round = await engine.runRound();
      log("round planned");
      expect(round).toMatchObject({ executed: true, errors: 0, actions: 1 });
      expect(engine.lastPlan()!.actions).toEqual([{ kind: "migrate", vm: "g1", from: "kvmA", to: "kvmB", rule: "cslb.balance" }]);
      const end = async () => (await journalOf(engine)).find((e) => e.phase === "end");
      for (let i = 0; i < 200 && !(await end()); i++) await new Promise((r) => setTimeout(r, 200));
      expect(await end()).toMatchObject({ vm: "g1", from: "kvmA", to: "kvmB", outcome: "completed" });
      log("migration completed");
      // /status shows per host which facts its agent measured.
      expect(engine.status().hosts.map((h) => [h.name, h.measured])).toEqual([["kvmA", ["cpu", "other_cpu", "mem_avail"]], ["kvmB", ["cpu", "other_cpu", "mem_avail"]]]);
    } finally {
      await engine.stop();
    }

    // Afterwards the guest runs on the destination daemon, the source no longer has it, and one QEMU runs for it.
    expect(virsh(B, "domstate", "g1")).toBe("running");
    expect(virsh(B, "list", "--all", "--name")).toBe("g1");
    expect(virsh(A, "list", "--all", "--name")).toBe("");
    expect(virsh(B, "dominfo", "g1")).toMatch(/Persistent:\s+yes/);
    expect((await cb.facts()).vms.map((v) => v.name)).toEqual(["g1"]);
    expect((await ca.facts()).vms).toEqual([]);
  }, 180_000);

  it("refuses a guest with a writable local disk before libvirt starts, naming the disk", async () => {
    const A = uris.get("a")!;
    virsh(A, "create", spinningGuest(root, "rw1", { writable: true }));
    const a = agents[0] ?? (await virshAgent("kvmA", A));
    const b = agents[1] ?? (await virshAgent("kvmB", uris.get("b")!));
    const r = await fetch(`${a.url}/migrations`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ vm: "rw1", to: { name: "kvmB", url: b.url } }) });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: string }).error).toMatch(
      new RegExp(`^VM rw1 on kvmA cannot migrate live without copying storage: its disk vda \\(${join(root, "rw1.img")}\\) is writable and on a local file system \\(.+\\); vmpolicy never copies storage`),
    );
    expect(virsh(A, "domstate", "rw1")).toBe("running");
  }, 30_000);
});
