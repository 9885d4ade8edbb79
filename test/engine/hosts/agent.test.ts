import { readFileSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, afterAll, beforeAll } from "vitest";
import { pino } from "pino";
import { startAgent, type RunningAgent, buildAgentApp } from "../../../engine/hosts/agent/server.js";
import { ManualClock } from "../../../engine/hosts/drivers/sim/clock.js";
import { SimDriver, type SimHostOptions } from "../../../engine/hosts/drivers/sim/index.js";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import type { OperationStatus } from "../../../engine/hosts/drivers/contract.js";
import { OperationLog, type OperationEntry } from "../../../engine/hosts/drivers/operations.js";
import { QemuDriver } from "../../../engine/hosts/drivers/qemu/index.js";
import { VirshDriver } from "../../../engine/hosts/drivers/virsh/index.js";
import { XlDriver } from "../../../engine/hosts/drivers/xl/index.js";
import { loadPolicySet } from "../../../engine/policy/set.js";
import type { CompiledPolicySet } from "../../../grammar/compile-types.js";
import { simulateOnce } from "../../../engine/simulator/runner.js";
import { loadScenarioFile } from "../../../engine/simulator/scenario-load.js";
import { thesisScenario } from "../../../engine/simulator/scenario.js";
import { FakeTools } from "../../fixtures/xl/fake-tools.js";
import { tempDirs } from "./temp-dirs.js";

const running: RunningAgent[] = [];
const storageDir = tempDirs("vmpolicy-storage-");
afterEach(async () => {
  await Promise.all(running.splice(0).map((a) => a.close()));
});

async function agent(opts: SimHostOptions, token?: string): Promise<RunningAgent & { driver: SimDriver }> {
  const a = await startAgent({ driver: new SimDriver(opts), listen: "127.0.0.1:0", token });
  running.push(a);
  return a as RunningAgent & { driver: SimDriver };
}

async function call(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Polls until the migration leaves `running` (the hand-over is real HTTP, so it takes a few ms after the clock fires). */
async function settle(url: string, id: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const r = await call(url, "GET", `/migrations/${id}`);
    if (r.json.state !== "running") return r.json;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`migration ${id} still running`);
}

async function closedPort(): Promise<string> {
  const a = await startAgent({ driver: new SimDriver({ name: "gone", cpus: 1, mem: 1 }), listen: "127.0.0.1:0" });
  await a.close();
  return a.url;
}

describe("agent routes", () => {
  it("GET /facts reports the host with each VM's fair share of CPU", async () => {
    const a = await agent({
      name: "h1",
      cpus: 2,
      mem: 8192,
      labels: { rack: "r1" },
      vms: [
        { name: "a", mem: 1024, labels: { tier: "web" } },
        { name: "b", mem: 2048, vcpus: 2 },
        { name: "c", mem: 512, busy: false, pinned: true },
      ],
      clock: new ManualClock(),
    });
    const r = await call(a.url, "GET", "/facts");
    expect(r.status).toBe(200);
    // Capacity 200 for demands a=100, b=200, c=3: c gets its 3, a and b split 197 equally.
    expect(r.json).toEqual({
      name: "h1",
      state: "up",
      cpus: 2,
      mem: 8192,
      labels: { rack: "r1" },
      vms: [
        { name: "a", cpu: 98.5, mem: 1024, labels: { tier: "web" }, pinned: false },
        { name: "b", cpu: 98.5, mem: 2048, labels: {}, pinned: false },
        { name: "c", cpu: 3, mem: 512, labels: {}, pinned: true },
      ],
    });
    expect((await call(a.url, "GET", "/healthz")).json).toEqual({ ok: true, name: "h1", driver: "sim" });
  });

  it("migrates a VM to another agent over HTTP in time proportional to its memory", async () => {
    const clock = new ManualClock();
    const src = await agent({ name: "h1", cpus: 4, mem: 8192, vms: [{ name: "small", mem: 1024 }, { name: "big", mem: 2048 }], clock, migrationRate: 512 });
    const dst = await agent({ name: "h2", cpus: 4, mem: 8192, clock });
    const small = await call(src.url, "POST", "/migrations", { vm: "small", to: { name: "h2", url: dst.url } });
    const big = await call(src.url, "POST", "/migrations", { vm: "big", to: { name: "h2", url: dst.url } });
    expect(small.status).toBe(202);
    expect(typeof small.json.id).toBe("string");
    expect((await call(src.url, "GET", `/migrations/${small.json.id}`)).json).toEqual({ state: "running", progress: { elapsed_ms: 0, processed_mib: 0, total_mib: 1024 } });

    clock.advance(1999); // 1024 MiB at 512 MiB/s takes 2000 ms
    await new Promise((r) => setTimeout(r, 30));
    // The modelled pre-copy reports how far it is, as virsh's domjobinfo does.
    expect((await call(src.url, "GET", `/migrations/${small.json.id}`)).json).toEqual({ state: "running", progress: { elapsed_ms: 1999, processed_mib: 1023, total_mib: 1024 } });
    clock.advance(1);
    expect(await settle(src.url, small.json.id)).toEqual({ state: "completed" });
    expect((await call(src.url, "GET", `/migrations/${big.json.id}`)).json).toMatchObject({ state: "running" });
    expect(src.driver.vmNames()).toEqual(["big"]);
    expect(dst.driver.vmNames()).toEqual(["small"]);

    clock.advance(2000); // 2048 MiB: 4000 ms in all
    expect(await settle(src.url, big.json.id)).toEqual({ state: "completed" });
    const facts = (await call(dst.url, "GET", "/facts")).json;
    expect(facts.vms.map((v: any) => [v.name, v.cpu, v.mem])).toEqual([["big", 100, 2048], ["small", 100, 1024]]);
    expect((await call(src.url, "GET", "/facts")).json.vms).toEqual([]);
  });

  it("refuses unknown VMs, repeated migrations and unknown ids with 4xx messages", async () => {
    const clock = new ManualClock();
    const src = await agent({ name: "h1", cpus: 1, mem: 4096, vms: [{ name: "a", mem: 512 }], clock });
    const dst = await agent({ name: "h2", cpus: 1, mem: 4096, clock });
    const to = { name: "h2", url: dst.url };
    expect(await call(src.url, "POST", "/migrations", { vm: "nope", to })).toEqual({ status: 404, json: { error: 'no VM "nope" on host h1', message: 'no VM "nope" on host h1' } });
    const first = await call(src.url, "POST", "/migrations", { vm: "a", to });
    const again = await call(src.url, "POST", "/migrations", { vm: "a", to });
    expect(again.status).toBe(409);
    expect(again.json.error).toBe(`VM a is already migrating (migration ${first.json.id})`);
    const self = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h1", url: src.url } });
    expect(self.status).toBe(409); // still migrating: that refusal comes first
    expect((await call(src.url, "GET", "/migrations/12345")).json.error).toBe('no migration "12345" on host h1');
    expect((await call(src.url, "GET", "/migrations/12345")).status).toBe(404);
    expect((await call(src.url, "GET", "/nowhere")).json.error).toBe("no route GET /nowhere on this agent");
  });

  it("refuses (422) a migration to an unreachable destination and keeps the VM", async () => {
    const clock = new ManualClock();
    const src = await agent({ name: "h1", cpus: 1, mem: 4096, vms: [{ name: "a", mem: 512 }], clock });
    const url = await closedPort();
    const r = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h9", url } });
    const error = `destination host h9 cannot be reached: agent h9 (${url}) GET /healthz: connection refused (is the agent running?)`;
    expect(r).toEqual({ status: 422, json: { error, message: error } });
    expect(src.driver.vmNames()).toEqual(["a"]);
    // Nothing was started: the VM may be migrated at once to a host that is there.
    const dst = await agent({ name: "h2", cpus: 1, mem: 4096, clock });
    const again = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h2", url: dst.url } });
    expect(again.status).toBe(202);
  });

  it("refuses (422) a migration when the agent at the URL is another host; fails one the destination lacks memory for", async () => {
    const clock = new ManualClock();
    const src = await agent({ name: "h1", cpus: 1, mem: 8192, vms: [{ name: "a", mem: 4096 }, { name: "b", mem: 512 }], clock });
    const dst = await agent({ name: "h2", cpus: 1, mem: 2048, clock });
    const wrong = await call(src.url, "POST", "/migrations", { vm: "b", to: { name: "h3", url: dst.url } });
    const error = `unknown destination host h3: the agent at ${dst.url} is host h2`;
    expect(wrong).toEqual({ status: 422, json: { error, message: error } });
    // An unknown VM is named before the destination is asked.
    expect((await call(src.url, "POST", "/migrations", { vm: "nope", to: { name: "h3", url: dst.url } })).status).toBe(404);
    const big = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h2", url: dst.url } });
    clock.advance(8000);
    expect(await settle(src.url, big.json.id)).toEqual({
      state: "failed",
      error: `agent h2 (${dst.url}) POST /incoming: answered 409: not enough memory on h2 for a: needs 4096 MiB, has 2048 MiB free`,
    });
    expect(src.driver.vmNames()).toEqual(["a", "b"]);
    expect(dst.driver.vmNames()).toEqual([]);
  });

  it("lets the destination's answer to the hand-over decide, whatever its facts say meanwhile", async () => {
    // A destination whose GET /facts fails while it takes 400 ms to accept the VM: the VM must end on one host only.
    const got: string[] = [];
    const dest = createServer((req, res) => {
      if (req.method === "POST" && req.url === "/incoming") {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          got.push(JSON.parse(body).vm.name);
          setTimeout(() => res.writeHead(201, { "content-type": "application/json" }).end('{"ok":true}'), 400);
        });
      } else if (req.url === "/healthz") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"name":"h2","driver":"fake"}');
      } else {
        setTimeout(() => res.writeHead(500, { "content-type": "application/json" }).end('{"error":"facts broken"}'), 100);
      }
    });
    await new Promise<void>((r) => dest.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(dest.address() as AddressInfo).port}`;
    try {
      const clock = new ManualClock();
      const src = await agent({ name: "h1", cpus: 1, mem: 4096, vms: [{ name: "a", mem: 512 }], clock });
      const r = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h2", url } });
      expect(r.status).toBe(202);
      clock.advance(1000);
      expect(await settle(src.url, r.json.id)).toEqual({ state: "completed" });
      expect((await call(src.url, "GET", `/migrations/${r.json.id}`)).json).toEqual({ state: "completed" });
      expect(got).toEqual(["a"]);
      expect(src.driver.vmNames()).toEqual([]);
    } finally {
      dest.closeAllConnections();
      await new Promise<void>((r) => dest.close(() => r()));
    }
  });

  it("restarts a lost host's VM from shared storage", async () => {
    const storage = storageDir();
    const clock = new ManualClock();
    const lost = await agent({ name: "h1", cpus: 2, mem: 4096, vms: [{ name: "db", mem: 1024, labels: { tier: "db" }, pinned: true }], storage, clock });
    const here = await agent({ name: "h2", cpus: 2, mem: 4096, storage, clock });
    expect(JSON.parse(readFileSync(join(storage, "db.json"), "utf8"))).toEqual({
      name: "db", mem: 1024, vcpus: 1, labels: { tier: "db" }, pinned: true, host: "h1", extra: { busy: true }, generation: 1,
    });
    await lost.close();
    expect(await call(here.url, "POST", "/restarts", { vm: "db", from: "h3" })).toEqual({
      status: 409,
      json: { error: "VM db last ran on h1, not h3: refusing to start a second copy", message: "VM db last ran on h1, not h3: refusing to start a second copy" },
    });
    expect((await call(here.url, "POST", "/restarts", { vm: "nope", from: "h1" })).json.error).toBe(`no VM "nope" in shared storage ${storage}`);
    const r = await call(here.url, "POST", "/restarts", { vm: "db", from: "h1" });
    expect(r.status).toBe(201);
    expect(r.json.state).toBe("completed");
    expect((await call(here.url, "GET", `/restarts/${r.json.id}`)).json).toEqual({ state: "completed" });
    expect((await call(here.url, "GET", `/migrations/${r.json.id}`)).json).toEqual({ state: "completed" });
    expect((await call(here.url, "GET", "/facts")).json.vms).toEqual([{ name: "db", cpu: 100, mem: 1024, labels: { tier: "db" }, pinned: true }]);
    expect(JSON.parse(readFileSync(join(storage, "db.json"), "utf8")).host).toBe("h2");
    // A second restart of the same VM is refused: it already runs here.
    expect((await call(here.url, "POST", "/restarts", { vm: "db", from: "h1" })).json.error).toBe("VM db already runs on h2");
  });

  it("a sim agent started again with its VM list leaves out a VM whose shared-storage record names another host (it migrated away meanwhile), and logs why", async () => {
    const storage = storageDir();
    const clock = new ManualClock();
    const r1: SimHostOptions = { name: "r1", cpus: 2, mem: 4096, vms: [{ name: "g1", mem: 512 }, { name: "g2", mem: 512 }], storage, clock, migrationRate: 512 };
    const first = await agent(r1);
    const r2 = await agent({ name: "r2", cpus: 2, mem: 4096, storage, clock });
    const m = await call(first.url, "POST", "/migrations", { vm: "g1", to: { name: "r2", url: r2.url } });
    clock.advance(1000);
    expect(await settle(first.url, m.json.id)).toEqual({ state: "completed" });
    const record = (vm: string) => JSON.parse(readFileSync(join(storage, `${vm}.json`), "utf8")) as { host: string; generation: number };
    expect([record("g1").host, record("g1").generation]).toEqual(["r2", 2]);
    await first.close();
    running.splice(running.indexOf(first), 1);

    // The same command line again (`vmpolicy agent --driver sim --name r1 --vms g1:512,g2:512 --storage …`).
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(`${JSON.parse(line).level === 40 ? "warn" : "info"} ${JSON.parse(line).msg}`) });
    const again = await startAgent({ driver: new SimDriver(r1), listen: "127.0.0.1:0", logger });
    running.push(again);
    expect((await call(again.url, "GET", "/facts")).json.vms.map((v: { name: string }) => v.name)).toEqual(["g2"]);
    expect((await call(r2.url, "GET", "/facts")).json.vms.map((v: { name: string }) => v.name)).toEqual(["g1"]);
    expect(lines.filter((l) => l.includes("g1"))).toEqual(["warn not starting g1: shared storage names r2 as its host (generation 2)"]);
    // The record is untouched; g2's (naming r1) is claimed again.
    expect([record("g1").host, record("g1").generation]).toEqual(["r2", 2]);
    expect([record("g2").host, record("g2").generation]).toEqual(["r1", 2]);
  });

  it("answers bad bodies with 400 and a message naming the field", async () => {
    const a = await agent({ name: "h1", cpus: 1, mem: 1024, vms: [{ name: "a", mem: 1 }], clock: new ManualClock() });
    const cases: [unknown, string][] = [
      [{ to: { name: "h2", url: "http://x" } }, "body must have required property 'vm'"],
      [{ vm: 7, to: { name: "h2", url: "http://x" } }, "body/vm must be string"],
      [{ vm: "a", to: { name: "h2" } }, "body/to must have required property 'url'"],
      [{ vm: "a", to: { name: "h2", url: "http://x" }, now: true }, 'body has an unknown field "now"'],
      [{ vm: "../etc", to: { name: "h2", url: "http://x" } }, 'body/vm must be a name of letters, digits, "_", "-", "." (or an http:// URL for a url field)'],
      [{ vm: "a", to: { name: "h2", url: "ftp://x" } }, 'body/to/url must be a name of letters, digits, "_", "-", "." (or an http:// URL for a url field)'],
    ];
    for (const [body, msg] of cases) {
      const r = await call(a.url, "POST", "/migrations", body);
      expect(r).toEqual({ status: 400, json: { error: `bad request to POST /migrations: ${msg}`, message: `bad request to POST /migrations: ${msg}` } });
    }
    const notJson = await call(a.url, "POST", "/migrations", "{oops");
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toMatch(/not valid JSON/);
    expect(JSON.stringify(notJson.json)).not.toMatch(/at .*\.js/);
    const r = await call(a.url, "POST", "/restarts", { vm: "a" });
    expect(r.json.error).toBe("bad request to POST /restarts: body must have required property 'from'");
  });

  it("requires the bearer token on every route but /healthz", async () => {
    const a = await agent({ name: "h1", cpus: 1, mem: 1024, vms: [{ name: "a", mem: 1 }], clock: new ManualClock() }, "s3cret");
    expect((await call(a.url, "GET", "/healthz")).status).toBe(200);
    expect(await call(a.url, "GET", "/facts")).toEqual({ status: 401, json: { error: "missing Authorization: Bearer TOKEN header", message: "missing Authorization: Bearer TOKEN header" } });
    expect((await call(a.url, "GET", "/facts", undefined, "wrong")).json.error).toBe("wrong bearer token");
    expect((await call(a.url, "POST", "/migrations", { vm: "a", to: { name: "h2", url: "http://x" } })).status).toBe(401);
    expect((await call(a.url, "POST", "/restarts", { vm: "a", from: "h2" })).status).toBe(401);
    expect((await call(a.url, "GET", "/migrations/x")).status).toBe(401);
    const ok = await call(a.url, "GET", "/facts", undefined, "s3cret");
    expect(ok.status).toBe(200);
    expect(ok.json.name).toBe("h1");
  });

  it("migrates between agents that share a token (the hand-over carries it)", async () => {
    const clock = new ManualClock();
    const src = await agent({ name: "h1", cpus: 1, mem: 4096, vms: [{ name: "a", mem: 256 }], clock }, "t0k");
    const dst = await agent({ name: "h2", cpus: 1, mem: 4096, clock }, "t0k");
    const r = await call(src.url, "POST", "/migrations", { vm: "a", to: { name: "h2", url: dst.url } }, "t0k");
    clock.advance(500);
    for (let i = 0; i < 200 && src.driver.migrationStatus(r.json.id)?.state === "running"; i++) await new Promise((r) => setTimeout(r, 5));
    expect(src.driver.migrationStatus(r.json.id)).toEqual({ state: "completed" });
    expect(dst.driver.vmNames()).toEqual(["a"]);
  });

  it("refuses to listen beyond loopback without a token", async () => {
    const driver = new SimDriver({ name: "h1", cpus: 1, mem: 1 });
    await expect(startAgent({ driver, listen: "0.0.0.0:0" })).rejects.toThrow(
      "refusing to listen on 0.0.0.0 without a token: anyone who can reach it could move or start VMs; give a token (--token-file) or listen on 127.0.0.1",
    );
    await expect(startAgent({ driver, listen: "localhost" })).rejects.toThrow('bad listen address "localhost": no port');
    const a = await startAgent({ driver, listen: "0.0.0.0:0", token: "x" });
    running.push(a);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const v6 = await startAgent({ driver: new SimDriver({ name: "h6", cpus: 1, mem: 1 }), listen: "[::1]:0" });
    running.push(v6);
    expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await call(v6.url, "GET", "/healthz")).json).toEqual({ ok: true, name: "h6", driver: "sim" });
    // `localhost` without a token binds 127.0.0.1 itself, whatever the hosts file maps the name to.
    const local = await startAgent({ driver: new SimDriver({ name: "h7", cpus: 1, mem: 1 }), listen: "localhost:0" });
    running.push(local);
    expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await call(local.url, "GET", "/healthz")).json).toEqual({ ok: true, name: "h7", driver: "sim" });
  });
});

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
    const dir = await mkdtemp(join(tmpdir(), "vmpolicy-ops-"));
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
    const dir = await mkdtemp(join(tmpdir(), "vmpolicy-scenario-"));
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
      const virsh = new VirshDriver({ name: "kvm1", virshBinary: f.path("virsh"), checkPeer: false, unsafe: true });
      const url = "http://-oproxycommand=touch${IFS}pwned:7071";
      for (const [d, vm] of [[xl, "web1"], [virsh, "app1"]] as const) {
        await expect(d.startMigration(vm, { name: "evil", url })).rejects.toMatchObject({
          status: 400,
          message: `the address "-oproxycommand=touch\${ifs}pwned" of evil starts with "-": refusing to pass it to ${d.kind} migrate`,
        });
        const fine = d.startMigration(vm, { name: "evil2", url: "http://ok:1" }).then(() => d.close());
        if (d.kind === "xl") await expect(fine).resolves.toBeUndefined();
        // virsh gets past the address check and asks the destination agent where its libvirt is: nothing answers at ok:1.
        else await expect(fine).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/^destination host evil2 did not say where its libvirt is/) });
      }
      await expect(new XlDriver({ name: "xen1", xlBinary: f.path("xl"), checkPeer: false, migrateHosts: { x: "-J" } }).startMigration("web1", { name: "x", url: "http://x:1" })).rejects.toMatchObject({ status: 400 });
      expect(f.calls().filter((c) => c[1] === "migrate" || c.includes("migrate")).flat().join(" ")).not.toMatch(/oproxycommand|-J/);
    } finally {
      f.cleanup();
    }
  });

  it.skipIf(!HAVE_QEMU)("qemu refuses a prepared migration URI other than tcp:HOST:PORT (exec: would run a command)", async () => {
    const runDir = await mkdtemp(join(tmpdir(), "vmpolicy-qemu-"));
    const marker = join(runDir, "pwned");
    const peer = await fakePeer("evil", { uri: `exec:touch ${marker}` });
    const d = await QemuDriver.create({ name: "q1", cpus: 1, mem: 512, runDir, vms: [{ name: "g1", mem: 32 }], stopGuestsOnClose: true });
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
    const { runSimulate } = await import("../../../bin/commands/simulate.js");
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
