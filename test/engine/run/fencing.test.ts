import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CpuSmoother } from "../../../engine/run/smoothing.js";
import { Fencer, runFenceCommand } from "../../../engine/run/fencing.js";
import { pino } from "pino";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { engineTestState, journalOf, placement, sleep, testConfig, until } from "./harness.js";

function testLogger() {
  const lines: { msg: string }[] = [];
  return { log: pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

async function untilTrue(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dir = mkdtempSync(join(tmpdir(), "vmpolicy-fence-"));

describe("fencing", () => {
  it("runs the command with {host} substituted; exit 0 fences, anything else is a failure with its reason", async () => {
    const out = join(dir, "ran");
    expect(await runFenceCommand(["sh", "-c", `echo "$0 $VMPOLICY_HOST" >> ${out}`, "{host}-ipmi"], "xen3", 2000)).toEqual({ ok: true, detail: "" });
    expect(readFileSync(out, "utf8")).toBe("xen3-ipmi xen3\n");
    expect(await runFenceCommand(["sh", "-c", "echo no power >&2; exit 3"], "xen3", 2000)).toEqual({ ok: false, detail: "exit code 3: no power" });
    expect(await runFenceCommand(["sleep", "5"], "xen3", 100)).toEqual({ ok: false, detail: "timed out after 100 ms" });
    expect((await runFenceCommand(["/no/such/fence"], "xen3", 1000)).detail).toMatch(/ENOENT/);
  });

  it("fences a down host once, retries a failing command with backoff, and clears when the host is back", async () => {
    const { log, lines } = testLogger();
    const counter = join(dir, "count");
    const flag = join(dir, "works");
    writeFileSync(counter, "");
    // Fails untilTrue the flag file exists; every attempt appends a line.
    const fencer = new Fencer({ command: ["sh", "-c", `echo x >> ${counter}; test -e ${flag}`], timeoutMs: 2000, log, retryBaseMs: 50, retryMaxMs: 200 });
    const fenced: string[] = [];
    const f2 = new Fencer({ command: ["true"], timeoutMs: 2000, log, onFenced: (h) => fenced.push(h) });
    fencer.hostDown("h1");
    fencer.hostDown("h1"); // already trying: no second run
    await untilTrue(() => readFileSync(counter, "utf8").length >= 6, 3000, "three attempts");
    expect(fencer.isFenced("h1")).toBe(false);
    expect(lines.some((l) => /fence command for h1 failed \(exit code 1\); retrying in 100 ms/.test(l.msg))).toBe(true);
    writeFileSync(flag, "");
    await untilTrue(() => fencer.isFenced("h1"), 3000, "fenced");
    expect([...fencer.fencedSet()]).toEqual(["h1"]);
    const attempts = readFileSync(counter, "utf8").length;
    fencer.hostDown("h1"); // fenced: nothing more to do
    fencer.hostUp("h1");
    expect(fencer.isFenced("h1")).toBe(false);
    expect(readFileSync(counter, "utf8").length).toBe(attempts);

    f2.hostDown("h2");
    await untilTrue(() => f2.isFenced("h2"), 3000, "h2 fenced");
    expect(fenced).toEqual(["h2"]);
    fencer.stop();
    f2.stop();
  });

  it("without a command only an operator fences", () => {
    const { log } = testLogger();
    const fencer = new Fencer({ command: null, timeoutMs: 1000, log });
    fencer.hostDown("h1");
    expect(fencer.isFenced("h1")).toBe(false);
    fencer.confirm("h1");
    expect(fencer.isFenced("h1")).toBe(true);
    fencer.hostUp("h1");
    expect(fencer.isFenced("h1")).toBe(false);
  });
});

describe("smoothing", () => {
  it("is an exponential moving average weighted by elapsed time", () => {
    const s = new CpuSmoother(60);
    expect(s.sample("vm", 100, 0)).toBe(100);
    // 60 s later (one time constant) a new sample weighs 1 - e^-1.
    expect(s.sample("vm", 0, 60_000)).toBeCloseTo(100 * Math.exp(-1), 10);
    expect(s.get("vm", 5)).toBeCloseTo(36.7879, 3);
    expect(s.get("other", 5)).toBe(5);
    // Two 30 s steps equal one 60 s step.
    const a = new CpuSmoother(60);
    a.sample("vm", 100, 0);
    a.sample("vm", 0, 30_000);
    expect(a.sample("vm", 0, 60_000)).toBeCloseTo(100 * Math.exp(-1), 10);
    const none = new CpuSmoother(0);
    none.sample("vm", 100, 0);
    expect(none.sample("vm", 10, 1000)).toBe(10);
    a.prune(10 * 60_000, 60_000);
    expect(a.get("vm", -1)).toBe(-1);
  });
});

const servers: Server[] = [];
const t = engineTestState(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A fake agent answering every request with `status` and `body`. */
async function fakeAgent(status: number, body: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, { "content-type": "text/html" }).end(body));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("engine: liveness and fencing", () => {
  it("an agent that answers, however badly, is alive: never down, never fenced", async () => {
    const cluster = await t.startCluster([{ name: "h2", vms: ["b1"] }]);
    const marks = join(mkdtempSync(join(tmpdir(), "vmpolicy-fence-")), "fenced.txt");
    const hosts = [cluster.hosts[0]!, { name: "h8", url: await fakeAgent(401, '{"error":"wrong bearer token"}') }, { name: "h9", url: await fakeAgent(200, "<html>oops</html>") }];
    const { engine, lines } = await t.startEngine(testConfig(hosts, { fence: ["sh", "-c", `echo {host} >> ${marks}`] }));
    for (let i = 0; i < 3; i++) {
      await engine.runRound();
      await sleep(300);
    }
    expect(lines.filter((l) => /is down|fencing/.test(l.msg))).toEqual([]);
    expect(existsSync(marks)).toBe(false);
    const rejected = lines.filter((l) => l.msg.includes("facts rejected")).map((l) => l.msg);
    expect(rejected).toEqual([
      "host h8: facts rejected ((facts): its agent answered but gave no facts: answered 401: wrong bearer token); keeping its last good facts",
      "host h9: facts rejected ((facts): its agent answered but gave no facts: answered 200 with a body that is not JSON: <html>oops</html>); keeping its last good facts",
    ]);
  });

  it("refuses the facts of an agent that is another host than the one configured at its URL", async () => {
    const cluster = await t.startCluster([{ name: "h1", vms: ["a1"] }, { name: "h2", vms: ["b1"] }]);
    const { engine, lines } = await t.startEngine(testConfig([cluster.hosts[0]!, { name: "h9", url: cluster.hosts[1]!.url }]));
    await engine.runRound();
    expect(engine.lastPlan()!.groups["cslb"]).toEqual({ h1: "moderate" });
    expect(lines.some((l) => l.msg === 'host h9: facts rejected (name: its agent is host "h2", not h9 (check the url of h9 in the config)); keeping its last good facts')).toBe(true);
  });

  it("a restart that fails is not issued again every round (it waits 30 s, doubling)", async () => {
    const cluster = await t.startCluster([
      { name: "h1", vms: ["a1"] },
      { name: "h2", vms: ["b1"] },
    ]);
    const { engine, lines } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    await cluster.agents[0]!.close();
    rmSync(join(cluster.storage, "a1.json")); // nothing to restart it from
    await sleep(700);
    await engine.runRound();
    engine.confirmFenced("h1");
    for (let i = 0; i < 4; i++) await engine.runRound();
    const restarts = (await journalOf(engine)).filter((e) => e.kind === "restart");
    expect(restarts.map((e) => `${e.phase}:${e.outcome ?? ""}`)).toEqual(["start:", "end:failed"]);
    expect(restarts[1]!.error).toMatch(/no VM "a1" in shared storage/);
    expect(lines.some((l) => l.msg === "restart of a1 failed 1 time(s); not retried for 30s")).toBe(true);
    // Planned each round all the same: the plan says what should happen, the executor when.
    expect(engine.lastPlan()!.actions.map((a) => (a.kind === "alert" ? a.kind : `${a.kind}:${a.vm}`))).toEqual(["restart:a1"]);
  });

  it("a migration in flight from a host that is then fenced settles at once, and its VMs restart", async () => {
    // 256 MiB at 16 MiB/s: 16 s per migration, far longer than the test waits.
    const cluster = await t.startCluster(
      [
        { name: "h1", vms: ["a1", "a2"] },
        { name: "h2", vms: ["b1"] },
        { name: "h3", vms: ["c1"] },
      ],
      { migrationRate: 16 },
    );
    const { engine } = await t.startEngine(testConfig(cluster.hosts));
    await engine.runRound();
    engine.setHostState("h1", "maintenance");
    await engine.runRound(); // evacuate starts a1 → h2 and a2 → h3; they are still copying
    expect((await journalOf(engine)).filter((e) => e.phase === "end")).toEqual([]);
    await cluster.agents[0]!.close();
    await sleep(700);
    await engine.runRound();
    expect(engine.status().hosts[0]).toMatchObject({ name: "h1", state: "down" });
    engine.confirmFenced("h1");
    // The flights settle in the background within a poll or two; with action_timeout (10 min) they used to hold up the restarts.
    const e = engine;
    await until(async () => {
      await e.runRound();
      return (await journalOf(e)).filter((x) => x.kind === "restart" && x.phase === "end").length === 2;
    }, 5000, "both restarts");
    const ends = (await journalOf(engine)).filter((e) => e.phase === "end").map((e) => `${e.kind}:${e.vm}:${e.outcome}`);
    expect(ends.filter((e) => e.startsWith("migrate")).sort()).toEqual(["migrate:a1:lost", "migrate:a2:lost"]);
    expect(ends.filter((e) => e.startsWith("restart")).sort()).toEqual(["restart:a1:completed", "restart:a2:completed"]);
    const p = await placement(cluster);
    expect([...p.h2!, ...p.h3!].sort()).toEqual(["a1", "a2", "b1", "c1"]);
  });
});
