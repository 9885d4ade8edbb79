/**
 * Shared set-up for the engine tests: real sim agents on loopback, an
 * engine config pointing at them, a logger that keeps its lines for
 * assertions, and a freezable HTTP proxy that makes a host "slow" (its
 * requests hang) without stopping it.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { request } from "undici";
import { afterEach } from "vitest";
import { type RunningAgent, startAgent } from "../../../engine/hosts/agent/server.js";
import { defaultConfig, type EngineConfig, type HostConfig } from "../../../engine/run/config.js";
import { SimDriver } from "../../../engine/hosts/drivers/sim/index.js";
import { systemClock } from "../../../engine/hosts/drivers/sim/clock.js";
import { SimWorkload } from "../../../engine/hosts/drivers/sim/workload.js";
import { Engine, type EngineOptions } from "../../../engine/run/engine.js";
import type { JournalEntry } from "../../../engine/http/control.js";

export const POLICIES = resolve(import.meta.dirname, "../../../policies");

export interface HostSpec {
  readonly name: string;
  readonly cpus?: number;
  readonly mem?: number;
  /** VM names; a `*` suffix marks it idle (`vm9*`). */
  readonly vms: readonly string[];
}

export interface TestCluster {
  readonly agents: RunningAgent[];
  readonly drivers: Map<string, SimDriver>;
  readonly hosts: HostConfig[];
  readonly storage: string;
  readonly workload: SimWorkload;
  close(): Promise<void>;
}

/**
 * Starts one sim agent per spec, sharing a fixed workload (busy VMs want
 * `busyDemand` each) and a shared storage folder for restarts.
 */
export async function startCluster(
  specs: readonly HostSpec[],
  options: { busyDemand?: number; vmMem?: number; migrationRate?: number; /** false: the agents get no storage (a misconfigured cluster, where nothing stops two copies of a VM) */ sharedStorage?: boolean } = {},
): Promise<TestCluster> {
  const storage = mkdtempSync(join(tmpdir(), "vmpolicy-test-storage-"));
  const workload = new SimWorkload({ clock: systemClock, period: 0, busyDemand: options.busyDemand ?? 50 });
  const agents: RunningAgent[] = [];
  const drivers = new Map<string, SimDriver>();
  for (const s of specs) {
    const driver = new SimDriver({
      name: s.name,
      cpus: s.cpus ?? 4,
      mem: s.mem ?? 65536,
      vms: s.vms.map((v) => ({ name: v.replace(/\*$/, ""), mem: options.vmMem ?? 256, busy: !v.endsWith("*") })),
      workload,
      ...(options.sharedStorage === false ? {} : { storage }),
      migrationRate: options.migrationRate ?? 1_000_000,
    });
    drivers.set(s.name, driver);
    agents.push(await startAgent({ name: s.name, driver, listen: "127.0.0.1:0" }));
  }
  return {
    agents,
    drivers,
    hosts: agents.map((a) => ({ name: a.name, url: a.url })),
    storage,
    workload,
    close: async () => {
      await Promise.all(agents.map((a) => a.close()));
    },
  };
}

/** A logger whose JSON lines land in `lines` (and nowhere else). */
export function testLogger(): { log: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** A config for tests: fast timeouts, no cooldown, a fresh journal. */
export function testConfig(hosts: readonly HostConfig[], overrides: Partial<EngineConfig> = {}): EngineConfig {
  const dir = mkdtempSync(join(tmpdir(), "vmpolicy-engine-test-"));
  return {
    ...defaultConfig(dir),
    policies: [POLICIES],
    hosts,
    journal: join(dir, "journal.jsonl"),
    interval: 2,
    cooldown: 0,
    down_after: 0.6,
    agent_timeout: 0.3,
    // Tests that record say where (a folder of their own).
    record: null,
    ...overrides,
  };
}

/** An engine driven by `runRound` only (no timer, no watcher unless asked). */
export async function startEngine(config: EngineConfig, options: Partial<EngineOptions> = {}): Promise<{ engine: Engine; lines: { level: number; msg: string }[] }> {
  const { log, lines } = testLogger();
  const engine = new Engine({ config, log, timer: false, watch: false, pollMs: 20, ...options });
  await engine.start();
  return { engine, lines };
}

/**
 * For a file whose tests start a cluster and an engine: registers an
 * afterEach that stops the engine last started, closes the cluster last
 * started, then runs `after` (the file's own clean-up, if any). Tests start
 * them through the returned functions (the same as `startCluster` and
 * `startEngine`); a test that starts a second one stops or closes the first.
 */
export function engineTestState(after?: () => Promise<void>): { startCluster: typeof startCluster; startEngine: typeof startEngine } {
  let cluster: TestCluster | null = null;
  let engine: Engine | null = null;
  afterEach(async () => {
    await engine?.stop();
    await cluster?.close();
    await after?.();
    engine = null;
    cluster = null;
  });
  return {
    startCluster: async (...args) => (cluster = await startCluster(...args)),
    startEngine: async (...args) => {
      const started = await startEngine(...args);
      engine = started.engine;
      return started;
    },
  };
}

/** VM names per host, as the agents report them now. */
export async function placement(cluster: TestCluster): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [name, d] of cluster.drivers) out[name] = d.vmNames();
  return out;
}

/** Loads (sum of reported VM CPU / cpus) per host, from the drivers. */
export async function loads(cluster: TestCluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, d] of cluster.drivers) {
    const f = await d.facts();
    out[name] = f.vms.reduce((s, v) => s + v.cpu, 0) / f.cpus;
  }
  return out;
}

export async function journalOf(engine: Engine): Promise<JournalEntry[]> {
  return [...(await engine.decisions(10_000))].reverse();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or `ms` passes. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An HTTP proxy in front of an agent; `freeze()` makes every request hang
 * (a slow host); `rewrite` replaces answer bodies (a misbehaving agent).
 */
export async function startProxy(target: string): Promise<{
  url: string;
  freeze(): void;
  thaw(): void;
  rewrite(fn: ((path: string, body: string) => string) | null): void;
  /** Answers matching requests itself, without forwarding: a status and JSON body, or "drop" to cut the connection. */
  intercept(fn: ((method: string, path: string) => { status: number; body: unknown } | "drop" | null) | null): void;
  /** Points the proxy at another agent (a host that came back as a new process). */
  retarget(url: string): void;
  close(): Promise<void>;
}> {
  let frozen = false;
  let current = target;
  let rewriter: ((path: string, body: string) => string) | null = null;
  let interceptor: ((method: string, path: string) => { status: number; body: unknown } | "drop" | null) | null = null;
  const server: Server = createServer((req, res) => {
    if (frozen) return; // never answers; the client times out
    const own = interceptor?.(req.method ?? "", req.url ?? "") ?? null;
    if (own === "drop") return void req.socket.destroy();
    if (own !== null) return void res.writeHead(own.status, { "content-type": "application/json" }).end(JSON.stringify(own.body));
    void (async () => {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const h of ["content-type", "authorization"]) if (typeof req.headers[h] === "string") headers[h] = req.headers[h] as string;
      const r = await request(`${current}${req.url}`, { method: req.method as "GET", headers, ...(body.length ? { body } : {}) });
      const raw = await r.body.text();
      const text = rewriter ? rewriter(req.url ?? "", raw) : raw;
      res.writeHead(r.statusCode, { "content-type": "application/json" });
      res.end(text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    freeze: () => (frozen = true),
    thaw: () => (frozen = false),
    rewrite: (fn) => (rewriter = fn),
    intercept: (fn) => (interceptor = fn),
    retarget: (url) => (current = url),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
