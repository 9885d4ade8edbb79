import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { AgentClient } from "../../../engine/hosts/client.js";
import { startAgent } from "../../../engine/hosts/agent/server.js";
import { QemuDriver } from "../../../engine/hosts/drivers/qemu/index.js";
import { QmpClient } from "../../../engine/hosts/drivers/qemu/qmp.js";
import { HAVE_QEMU, until } from "./qemu-harness.js";

// Agents restarted and killed around real QEMU guests (SPEC 6): a VM never runs twice, and never goes unreported.
const CLI = join(import.meta.dirname, "../../../dist/bin/vmpolicy.js");

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A fresh folder for one test; on cleanup every QEMU whose command line names it is killed (by pid), then it goes. */
function workDir(): string {
  const root = mkdtempSync(join(tmpdir(), "vmpolicy-qemu-restart-"));
  cleanup.push(() => {
    for (const pid of spawnSync("pgrep", ["-f", root]).stdout.toString().split("\n").filter(Boolean)) spawnSync("kill", ["-9", pid]);
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}

/** The QEMU processes running guest `vm` (its name is unique to the test). */
function qemus(vm: string): string[] {
  return spawnSync("pgrep", ["-f", `guest=${vm} `]).stdout.toString().split("\n").filter(Boolean);
}

interface CliAgent {
  readonly url: string;
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

/** `vmpolicy agent --driver qemu …` as a process, once it listens. */
async function cliAgent(root: string, name: string, extra: string[]): Promise<CliAgent> {
  const args = [CLI, "agent", "--driver", "qemu", "--name", name, "--listen", "127.0.0.1:0", "--run-dir", join(root, `run-${name}`), "--storage", join(root, "storage"), "--cpus", "2", "--mem", "512", ...extra];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  cleanup.push(() => void child.kill("SIGKILL"));
  const lines: string[] = [];
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const url = await new Promise<string>((res, rej) => {
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    void exited.then((code) => rej(new Error(`agent ${name} exited ${code}: ${err}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const m = /listening on (http:\/\/[^"]+)"/.exec(line);
      if (m) res(m[1]!);
    });
  });
  return { url, child, lines, exited };
}

async function migrate(from: CliAgent | { url: string }, vm: string, to: { name: string; url: string }): Promise<unknown> {
  const c = new AgentClient({ url: from.url });
  const id = await c.startMigration(vm, to);
  return until(() => c.migrationStatus(id), (s) => s.state !== "running");
}

/** Where `vm` is, by every account: one QEMU process, the agents reporting it, the storage record's host. */
async function accounts(root: string, vm: string, agents: Record<string, { url: string }>): Promise<{ qemus: number; reportedBy: string[]; record: string }> {
  const reportedBy: string[] = [];
  for (const [name, a] of Object.entries(agents)) {
    if ((await new AgentClient({ url: a.url }).facts()).vms.some((v) => v.name === vm)) reportedBy.push(name);
  }
  return { qemus: qemus(vm).length, reportedBy, record: JSON.parse(readFileSync(join(root, "storage", `${vm}.json`), "utf8")).host };
}

function stop(a: CliAgent, signal: NodeJS.Signals): Promise<number | null> {
  a.child.kill(signal);
  return a.exited;
}

const tag = () => Math.random().toString(36).slice(2, 8);

/** An agent in this process whose guests go with it at the end of the test. */
async function inProcess(root: string, name: string): Promise<{ url: string; driver: QemuDriver }> {
  const driver = await QemuDriver.create({ name, cpus: 2, mem: 512, runDir: join(root, `run-${name}`), storage: join(root, "storage"), stopGuestsOnClose: true });
  const a = await startAgent({ driver, listen: "127.0.0.1:0" });
  cleanup.push(() => a.close());
  return { url: a.url, driver };
}

// Agents as processes take seconds to start on a loaded machine: each test starts as few as it needs, in parallel.
describe.skipIf(!HAVE_QEMU)("qemu agent restarts", () => {
  it("a source agent stopped (SIGTERM) and started again after a migration starts no second copy", async () => {
    const root = workDir();
    const g = `g-${tag()}`;
    const [r1, r2] = await Promise.all([cliAgent(root, "r1", ["--vms", `${g}:32`]), inProcess(root, "r2")]);
    expect(await migrate(r1, g, { name: "r2", url: r2.url })).toEqual({ state: "completed" });
    expect(await stop(r1, "SIGTERM")).toBe(0);

    const again = await cliAgent(root, "r1", ["--vms", `${g}:32`]);
    expect(await accounts(root, g, { r1: again, r2 })).toEqual({ qemus: 1, reportedBy: ["r2"], record: "r2" });
    expect(again.lines.some((l) => l.includes(`not starting ${g}: shared storage names r2 as its host (generation 2)`))).toBe(true);
  }, 120_000);

  it("kill -9 of both agents after a migration: the guest runs on, the destination's next run adopts it (and migrates it), the source's starts no copy", async () => {
    const root = workDir();
    const g = `g-${tag()}`;
    const [r1, r2] = await Promise.all([cliAgent(root, "r1", ["--vms", `${g}:32`]), cliAgent(root, "r2", [])]);
    expect(await migrate(r1, g, { name: "r2", url: r2.url })).toEqual({ state: "completed" });

    await Promise.all([stop(r1, "SIGKILL"), stop(r2, "SIGKILL")]);
    expect(qemus(g)).toHaveLength(1);
    const [r1again, r2again] = await Promise.all([cliAgent(root, "r1", ["--vms", `${g}:32`]), cliAgent(root, "r2", [])]);
    expect(await accounts(root, g, { r1: r1again, r2: r2again })).toEqual({ qemus: 1, reportedBy: ["r2"], record: "r2" });
    expect(r2again.lines.some((l) => l.includes(`adopted ${g} (QEMU pid`))).toBe(true);
    expect(r1again.lines.some((l) => l.includes(`not starting ${g}: shared storage names r2 as its host`))).toBe(true);

    // Adopted means managed: it migrates back.
    expect(await migrate(r2again, g, { name: "r1", url: r1again.url })).toEqual({ state: "completed" });
    expect(await accounts(root, g, { r1: r1again, r2: r2again })).toEqual({ qemus: 1, reportedBy: ["r1"], record: "r1" });
  }, 120_000);

  it("a guest left paused after a migration that completed while its agent was away is stopped, never resumed", async () => {
    const root = workDir();
    const g = `g-${tag()}`;
    const storage = join(root, "storage");
    const options = { name: "p1", cpus: 2, mem: 512, runDir: join(root, "run-p1"), storage, vms: [{ name: g, mem: 32 }] };
    const p1 = await startAgent({ driver: await QemuDriver.create(options), listen: "127.0.0.1:0" });
    const p2 = await startAgent({ driver: await QemuDriver.create({ name: "p2", cpus: 2, mem: 512, runDir: join(root, "run-p2"), storage, stopGuestsOnClose: true }), listen: "127.0.0.1:0" });
    cleanup.push(() => p2.close());
    await p1.close(); // the agent goes; its guest runs on

    // While no agent watches p1, its guest is migrated to p2 (as an agent killed in mid-migration leaves it: QEMU finishes alone).
    const qmp = await QmpClient.connect(join(root, "run-p1", `${g}.qmp`));
    const { uri } = await new AgentClient({ url: p2.url }).prepareIncoming({ name: g, mem: 32, vcpus: 1, labels: {}, pinned: false, host: "p1" }, "p1");
    await qmp.execute("migrate", { uri });
    await until(() => qmp.execute<{ status?: string }>("query-migrate"), (m) => m.status === "completed");
    expect(await qmp.execute("query-status")).toMatchObject({ status: "postmigrate" });
    qmp.close();
    await until(async () => (p2.driver as QemuDriver).vmNames(), (names) => names.length === 1);

    const back = await QemuDriver.create(options);
    cleanup.push(() => back.close());
    expect(back.vmNames()).toEqual([]);
    expect(await accounts(root, g, { p2 })).toEqual({ qemus: 1, reportedBy: ["p2"], record: "p2" });
    expect(await (p2.driver as QemuDriver).monitor(g)!.execute("query-status")).toMatchObject({ status: "running" });
  }, 60_000);

  it("a guest whose QEMU runs but cannot be adopted is not started a second time", async () => {
    const root = workDir();
    const g = `g-${tag()}`;
    const options = { name: "s1", cpus: 2, mem: 512, runDir: join(root, "run-s1"), storage: join(root, "storage"), vms: [{ name: g, mem: 32 }] };
    await (await QemuDriver.create(options)).close(); // the agent goes, the guest runs on
    // Something else holds QEMU's only monitor connection: the next run cannot check the guest.
    const holder = await QmpClient.connect(join(root, "run-s1", `${g}.qmp`));
    cleanup.push(() => holder.close());
    await expect(QemuDriver.create(options)).rejects.toThrow(new RegExp(`^a QEMU for ${g} already runs \\(pid \\d+, [^)]+\\) without being this agent's; not starting a second one$`));
    expect(qemus(g)).toHaveLength(1);
  }, 60_000);
});

describe.skipIf(!HAVE_QEMU)("one agent per run dir (processes)", () => {
  it("a second agent on a run dir in use exits 1 naming the dir and the holder's pid; after the holder is killed with -9 the lock is taken over, and SIGTERM releases it", async () => {
    const root = workDir();
    const runDir = join(root, "run-l1");
    const lock = join(runDir, "agent.lock");
    const first = await cliAgent(root, "l1", []);
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: first.child.pid, host: "l1" });
    await expect(cliAgent(root, "l1", [])).rejects.toThrow(
      `agent l1 exited 1: vmpolicy agent: the run dir ${runDir} is in use by another agent (pid ${first.child.pid}, host l1; ${lock}): ` +
        "two agents on one run dir would both adopt its guests; stop that agent or give this one another --run-dir\n",
    );
    expect((await new AgentClient({ url: first.url }).facts()).name).toBe("l1"); // the first runs on

    await stop(first, "SIGKILL"); // its lock stays behind, naming a pid that is gone
    expect(JSON.parse(readFileSync(lock, "utf8")).pid).toBe(first.child.pid);
    const second = await cliAgent(root, "l1", []);
    expect(second.lines.some((l) => l.includes(`took over ${lock} from agent pid ${first.child.pid} (l1), which is gone`))).toBe(true);
    expect(JSON.parse(readFileSync(lock, "utf8")).pid).toBe(second.child.pid);
    expect(await stop(second, "SIGTERM")).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);
});
