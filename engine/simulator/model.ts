/**
 * The discrete-time cluster: hosts, VMs, the benchmark, migrations in flight
 * and the engine's own CPU, advanced one step at a time, with the CPU
 * accounting the thesis reports (VM%, Dom0%, Idle%, engine%, of the
 * physical cores) and the per-VM CPU a measurement tool like xentop sees.
 * It knows nothing of policies: `runner.ts` drives it and asks the planner.
 */
import { advanceMigrations, migrationVolume, type MigrationState } from "./migration.js";
import { mulberry32, randomInt, type Rng } from "../rng.js";
import type { Scenario } from "./scenario.js";
import { coreUse, fairShares } from "../hosts/drivers/cpu-share.js";
import { creditWork, initialBusy, pickSuccessor, traceAt, type BenchState } from "./workload.js";
import { DEFAULT_PINGPONG_WINDOW_S, PingPongDetector } from "../run/pingpong.js";

/** Core-percent-seconds spent per kind over a run, and what it achieved. */
export interface Totals {
  vm: number;
  dom0: number;
  engine: number;
  idle: number;
  /** Sum of the four: cores × 100 × seconds. */
  capacity: number;
  runs: number;
  migrations: number;
  /** Migrations that took a VM back to a host it left within the engine's default ping-pong window. */
  pingpong: number;
  /** Trace VMs: CPU demanded and granted, percent-seconds (for `served_pct`). */
  traceDemand: number;
  traceGranted: number;
}

/** The mutable state of one simulation. */
export class ClusterModel {
  readonly scenario: Scenario;
  time = 0;
  /** Host index of each VM (its source while it migrates). */
  readonly hostOf: Int32Array;
  readonly bench: BenchState[];
  /** Logical CPU percent-seconds per VM since the last measurement. */
  readonly measured: Float64Array;
  /** Seconds of stop-and-copy pause each VM still owes. */
  readonly paused: Float64Array;
  /** Time each VM last finished a migration (for `recent`), -Infinity never. */
  readonly lastMoved: Float64Array;
  private readonly pingpong = new PingPongDetector(DEFAULT_PINGPONG_WINDOW_S * 1000);
  readonly active: MigrationState[] = [];
  readonly totals: Totals = { vm: 0, dom0: 0, engine: 0, idle: 0, capacity: 0, runs: 0, migrations: 0, pingpong: 0, traceDemand: 0, traceGranted: 0 };
  /** Engine CPU-seconds queued by rounds and not yet run. */
  enginePending = 0;
  /** Index of the engine's host, or -1 without an engine. */
  readonly engineHost: number;
  private readonly rng: Rng;
  private readonly benchVms: number[];
  private readonly hostIndex: Map<string, number>;

  constructor(scenario: Scenario, seed: number, withEngine: boolean, stratum?: number) {
    this.scenario = scenario;
    this.rng = mulberry32(seed);
    this.hostIndex = new Map(scenario.hosts.map((h, i) => [h.name, i]));
    const n = scenario.vms.length;
    this.hostOf = Int32Array.from(scenario.vms, (v) => this.hostIndex.get(v.host) ?? 0);
    this.measured = new Float64Array(n);
    this.paused = new Float64Array(n);
    this.lastMoved = new Float64Array(n).fill(-Infinity);
    this.benchVms = scenario.vms.flatMap((v, i) => (v.trace ? [] : [i]));
    const busy = initialBusy(this.benchVms, scenario.workload.busy, this.rng, stratum);
    // The measurement window opens on a workload already under way: each busy VM
    // is somewhere in its current run and stint, so counts carry no start-up lockstep.
    this.bench = scenario.vms.map((_, i) => {
      const w = scenario.workload;
      if (!busy.has(i)) return { busy: false, runsLeft: w.iterations, progress: 0, startAt: 0 };
      const runsLeft = 1 + randomInt(this.rng, w.iterations);
      return { busy: true, runsLeft, progress: this.rng() * w.work, startAt: 0 };
    });
    this.engineHost = withEngine ? (this.hostIndex.get(scenario.engine.host) ?? 0) : -1;
  }

  /** Starts a live migration of VM `vm` to host `to`; false when it is already moving or already there. */
  startMigration(vm: number, to: number): boolean {
    if (this.hostOf[vm] === to || this.active.some((m) => m.vm === vm)) return false;
    const mem = this.scenario.vms[vm]!.mem;
    this.active.push({ vm, from: this.hostOf[vm]!, to, remaining: migrationVolume(mem, this.scenario.migration), startedAt: this.time });
    return true;
  }

  /** Advances the model by one step. */
  step(): void {
    const s = this.scenario;
    const dt = s.step;
    const w = s.workload;
    const mig = s.migration;
    const hostCount = s.hosts.length;
    const dom0 = s.hosts.map((h) => h.dom0);
    const migrating = new Uint8Array(s.vms.length);
    for (const m of this.active) {
      dom0[m.from]! += mig.dom0Source;
      dom0[m.to]! += mig.dom0Dest;
      migrating[m.vm] = 1;
    }
    if (this.engineHost >= 0) dom0[this.engineHost]! += s.engine.dom0;
    for (let v = 0; v < s.vms.length; v++) {
      const b = this.bench[v]!;
      if (b.busy && b.startAt > this.time) dom0[this.hostOf[v]!]! += w.startupDom0 * Math.min(1, (b.startAt - this.time) / dt);
    }

    for (let h = 0; h < hostCount; h++) {
      const host = s.hosts[h]!;
      const vms: number[] = [];
      const demands: number[] = [];
      for (let v = 0; v < s.vms.length; v++) {
        if (this.hostOf[v] !== h) continue;
        const spec = s.vms[v]!;
        const cap = spec.vcpus * 100;
        const b = this.bench[v]!;
        const computing = b.busy && b.startAt < this.time + dt;
        let want = spec.trace ? traceAt(spec.trace, this.time) : computing ? cap * Math.min(1, (this.time + dt - b.startAt) / dt) : w.idleCpu;
        want = Math.min(cap, Math.max(0, want));
        if (spec.trace) this.totals.traceDemand += want * dt;
        if (this.paused[v]! > 0) {
          const pause = Math.min(dt, this.paused[v]!);
          this.paused[v]! -= pause;
          want *= 1 - pause / dt;
        }
        vms.push(v);
        demands.push(want);
      }
      const capacity = host.cpus * 100;
      const d0 = Math.min(capacity, dom0[h]!);
      let eng = 0;
      if (h === this.engineHost && this.enginePending > 0) {
        eng = Math.min(capacity - d0, 100, (this.enginePending / dt) * 100);
        this.enginePending = Math.max(0, this.enginePending - (eng * dt) / 100);
      }
      const shares = fairShares(demands, capacity - d0 - eng);
      let busy = d0 + eng;
      for (const x of shares) busy += x;
      const use = coreUse(busy, host.cores, host.htGain);
      let vmTime = 0;
      for (let k = 0; k < vms.length; k++) {
        const v = vms[k]!;
        const got = shares[k]!;
        vmTime += got;
        this.measured[v]! += got * dt;
        if (s.vms[v]!.trace) this.totals.traceGranted += got * use.workFactor * dt;
        const efficiency = migrating[v] ? 1 - mig.slowdown : 1;
        const done = creditWork(this.bench[v]!, (got * use.workFactor * efficiency * dt) / 100, w.work);
        this.totals.runs += done.runs;
        if (done.handover) {
          const next = this.bench[pickSuccessor(v, this.benchVms, this.bench, this.rng)]!;
          next.busy = true;
          next.runsLeft = w.iterations;
          next.progress = 0;
          next.startAt = this.time + dt + w.startup;
        }
      }
      this.totals.vm += vmTime * use.coreFactor * dt;
      this.totals.dom0 += d0 * use.coreFactor * dt;
      this.totals.engine += eng * use.coreFactor * dt;
      this.totals.idle += use.idle * dt;
      this.totals.capacity += host.cores * 100 * dt;
    }

    for (const m of advanceMigrations(this.active, hostCount, dt, mig)) {
      this.active.splice(this.active.indexOf(m), 1);
      if (this.pingpong.migrated(String(m.vm), String(this.hostOf[m.vm]), String(m.to), "", (this.time + dt) * 1000)) this.totals.pingpong++;
      this.hostOf[m.vm] = m.to;
      this.paused[m.vm]! += mig.downtime;
      this.lastMoved[m.vm] = this.time + dt;
      this.totals.migrations++;
    }
    this.time += dt;
  }
}
