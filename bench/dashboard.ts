/**
 * `dashboard_1k`: the dashboard with 1,000 hosts and 20,000 VMs and a full
 * hour of load history (720 points per host). Measures the feed's snapshot
 * (build + JSON, bytes) in the engine, and in Debian's chromium the time to
 * the first render after navigation and the page's work per live update
 * (parse + render, median and worst of 20). Goal: first render under 2 s,
 * an update under 100 ms, so the page never freezes.
 */
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import type { Benchmark, BenchResult } from "./api.js";
import { median, round } from "./api.js";
import { startHttpApi } from "../engine/http/server.js";
import { EngineMetrics } from "../engine/http/metrics.js";
import { DashboardFeed } from "../engine/http/dashboard/feed.js";
import type { EngineControl, EngineStatus, HostStatus, JournalEntry, RoundSummary } from "../engine/http/control.js";
import type { ClusterHost, ClusterView, DashboardSource } from "../engine/http/dashboard/view.js";
import { LoadHistory } from "../engine/run/load-history.js";
import type { Plan } from "../engine/types.js";

const CHROMIUM = "/usr/bin/chromium";
const HOSTS = 1000;
const VMS_PER_HOST = 20;
const UPDATES = 20;

/** A synthetic engine of `HOSTS` hosts whose VM loads change on `step()`. */
export class BigCluster implements EngineControl, DashboardSource {
  private hosts: ClusterHost[] = [];
  private listeners = new Set<() => void>();
  private readonly points = new LoadHistory();
  private seed = 1;

  constructor() {
    const now = Date.now();
    for (let p = 720; p > 0; p--) this.points.record(now - p * 5000, Array.from({ length: HOSTS }, (_, i) => [name(i), 30 + ((i * 7 + p) % 60)] as const));
    this.step();
  }

  private random(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
    return this.seed / 2 ** 31;
  }

  step(): void {
    this.hosts = Array.from({ length: HOSTS }, (_, i) => {
      const vms = Array.from({ length: VMS_PER_HOST }, (_, j) => ({ name: `vm${i * VMS_PER_HOST + j}`, cpu: Math.round(this.random() * 1000) / 10, mem: 2048, pinned: j === 0 }));
      const load = vms.reduce((s, v) => s + v.cpu, 0) / 32;
      return { name: name(i), state: "up" as const, cpus: 32, mem: 262144, mem_used: VMS_PER_HOST * 2048, load, vms };
    });
    this.points.record(Date.now(), this.hosts.map((h) => [h.name, h.load] as const));
    for (const l of this.listeners) l();
  }

  status(): EngineStatus {
    const hosts: HostStatus[] = this.hosts.map((h) => ({ name: h.name, url: "http://127.0.0.1:7071", state: h.state, groups: { cslb: group(h.load) }, load: h.load, used: h.load, measured: [], vm_count: h.vms.length, last_seen: new Date().toISOString(), fenced: false, operator_state: null }));
    const round: RoundSummary = { at: new Date().toISOString(), duration_ms: 40, actions: 16, skipped: 3, errors: 0, executed: true };
    return { hosts, policies: [{ name: "cslb", file: "/etc/vmpolicy/cslb.policy", hash: "ab".repeat(32), loaded_at: new Date().toISOString() }], last_round: round, paused: false, dry_run: false, reload_error: null, pingpong: [] };
  }
  lastPlan(): Plan {
    const groups: Record<string, string> = {};
    for (const h of this.hosts) groups[h.name] = group(h.load);
    const actions = this.hosts.slice(0, 16).map((h, i) => ({ kind: "migrate" as const, vm: h.vms[1]!.name, from: h.name, to: this.hosts[HOSTS - 1 - i]!.name, rule: "cslb.balance", explain: { binding: { src: h.name }, lets: { load: h.load } } }));
    return { actions, skipped: [], errors: [], groups: { cslb: groups }, values: { cslb: { lower: 40, mean: 50, upper: 60 } } };
  }
  async decisions(limit: number): Promise<readonly JournalEntry[]> {
    return Array.from({ length: limit }, (_, i) => ({ id: `a${i}`, phase: "end" as const, at: new Date().toISOString(), kind: "migrate" as const, vm: `vm${i}`, from: name(i % HOSTS), to: name((i + 1) % HOSTS), rule: "cslb.balance", outcome: "completed" as const }));
  }
  async reload(): Promise<never> {
    throw new Error("not in the bench");
  }
  async promoteShadow(): Promise<never> {
    throw new Error("not in the bench");
  }
  async dropShadow(): Promise<never> {
    throw new Error("not in the bench");
  }
  pause(): void {}
  resume(): void {}
  async runRound(): Promise<RoundSummary> {
    return this.status().last_round!;
  }
  setHostState(): void {}
  confirmFenced(): void {}
  cluster(): ClusterView {
    return { hosts: this.hosts, flights: [], fence_waits: [] };
  }
  history(afterT?: number) {
    return this.points.part(afterT);
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function name(i: number): string {
  return `host${String(i).padStart(4, "0")}`;
}

function group(load: number): string {
  return load > 60 ? "heavy" : load < 40 ? "light" : "normal";
}

async function browserFigures(url: string, cluster: BigCluster): Promise<BenchResult> {
  if (!existsSync(CHROMIUM)) return { browser: `skipped: ${CHROMIUM} is missing (apt-get install chromium)` };
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    // CPU time of the page's main thread (Chrome's ThreadTime): unlike wall time, it does not grow
    // when other processes take the machine's cores.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const cpuMs = async () => ((await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "ThreadTime")?.value ?? NaN) * 1000;
    const cpu0 = await cpuMs();
    await page.goto(url);
    await page.waitForSelector('body[data-renders="1"]', { timeout: 60_000 });
    const firstRender = await page.evaluate(() => performance.getEntriesByName("vmpolicy:first-render")[0]!.startTime);
    const firstCpu = (await cpuMs()) - cpu0;
    const rows = await page.locator(".host").count();
    const updates: number[] = [];
    const updateCpu: number[] = [];
    for (let i = 0; i < UPDATES; i++) {
      const before = Number(await page.evaluate(() => document.body.dataset.renders));
      const c0 = await cpuMs();
      cluster.step();
      await page.waitForFunction((n) => Number(document.body.dataset.renders) > n, before, { timeout: 30_000, polling: 50 });
      updateCpu.push((await cpuMs()) - c0);
      updates.push(await page.evaluate(() => performance.getEntriesByName("vmpolicy:update").at(-1)!.duration));
    }
    const [load1] = loadavg();
    return {
      first_render_ms: round(firstRender, 1),
      first_render_cpu_ms: round(firstCpu, 1),
      update_median_ms: round(median(updates), 1),
      update_max_ms: round(Math.max(...updates), 1),
      update_cpu_median_ms: round(median(updateCpu), 1),
      rows_in_dom: rows,
      machine_load: round(load1!, 1),
    };
  } finally {
    await browser.close();
  }
}

const bench: Benchmark = {
  name: "dashboard_1k",
  description: `dashboard with ${HOSTS} hosts / ${HOSTS * VMS_PER_HOST} VMs: feed snapshot, first render and per-update work in chromium (goal < 2 s, < 100 ms)`,
  async run() {
    const cluster = new BigCluster();
    const feed = new DashboardFeed(cluster, cluster);
    const times: number[] = [];
    const cpu: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      bytes = JSON.stringify(await feed.snapshot()).length;
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    feed.close();
    const api = await startHttpApi(cluster, { listen: "127.0.0.1:0", metrics: new EngineMetrics(), dashboard: cluster });
    try {
      return { snapshot_ms: round(median(times), 1), snapshot_cpu_ms: round(median(cpu), 1), snapshot_mb: round(bytes / 2 ** 20, 2), ...(await browserFigures(`${api.url}/`, cluster)) };
    } finally {
      await api.close();
    }
  },
};

export default bench;
