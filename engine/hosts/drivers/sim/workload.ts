/**
 * The sim driver's workload and CPU model: which VMs are busy, how that
 * changes over time (seeded, so a run is reproducible), and how a host's
 * capacity is shared when its VMs want more than it has. One workload may be
 * shared by several in-process sim hosts (the engine's embedded cluster),
 * making it cluster-wide as in the thesis testbed; separate agent processes
 * each have their own.
 */
import { mulberry32, randomInt } from "../../../rng.js";
import { fairShares } from "../cpu-share.js";
import type { Clock } from "./clock.js";

export interface WorkloadOptions {
  readonly clock: Clock;
  readonly seed?: number;
  /** Seconds between switches; 0 or Infinity keeps the workload fixed. Default 60. */
  readonly period?: number;
  /** Demand of a busy VM per vCPU, in CPU-percent (default 100: one full vCPU). */
  readonly busyDemand?: number;
  /** Demand of an idle VM, in CPU-percent (default 3). */
  readonly idleDemand?: number;
}

interface Entry {
  busy: boolean;
  owner: string;
}

/**
 * Busy/idle state per VM. Every `period` seconds one busy VM (chosen at
 * random) goes idle and one idle VM (chosen at random) becomes busy, so the
 * number of busy VMs stays the same while the load moves around. Time is
 * applied lazily: each read first catches up on the periods that elapsed.
 */
export class SimWorkload {
  readonly busyDemand: number;
  readonly idleDemand: number;
  private readonly clock: Clock;
  private readonly periodMs: number;
  private readonly random: () => number;
  private readonly entries = new Map<string, Entry>();
  private nextSwitch: number;
  private switched = 0;

  constructor(options: WorkloadOptions) {
    this.clock = options.clock;
    const period = options.period ?? 60;
    this.periodMs = period > 0 && Number.isFinite(period) ? period * 1000 : Infinity;
    this.random = mulberry32(options.seed ?? 1);
    this.busyDemand = options.busyDemand ?? 100;
    this.idleDemand = options.idleDemand ?? 3;
    this.nextSwitch = this.clock.now() + this.periodMs;
  }

  /** Registers a VM run by `owner` (a host name); replaces any earlier entry for the name. */
  add(vm: string, busy: boolean, owner: string): void {
    this.catchUp();
    this.entries.set(vm, { busy, owner });
  }

  /** Forgets a VM, but only if `owner` still runs it (a shared workload may already have it elsewhere). */
  remove(vm: string, owner: string): void {
    const e = this.entries.get(vm);
    if (e && e.owner === owner) this.entries.delete(vm);
  }

  isBusy(vm: string): boolean {
    this.catchUp();
    return this.entries.get(vm)?.busy ?? false;
  }

  /** Sets a VM busy or idle by hand (tests, demos). */
  setBusy(vm: string, busy: boolean): void {
    this.catchUp();
    const e = this.entries.get(vm);
    if (e) e.busy = busy;
  }

  /** How many switches happened up to now; handy for tests and logs. */
  get switches(): number {
    this.catchUp();
    return this.switched;
  }

  /** What a VM with `vcpus` wants right now, in CPU-percent. */
  demand(vm: string, vcpus: number): number {
    return this.isBusy(vm) ? this.busyDemand * vcpus : Math.min(this.idleDemand, 100 * vcpus);
  }

  private catchUp(): void {
    const now = this.clock.now();
    while (now >= this.nextSwitch) {
      this.switchOnce();
      this.nextSwitch += this.periodMs;
    }
  }

  private switchOnce(): void {
    // Sorted by name so the choice depends on the seed and the VM set only, not on insertion order.
    const names = [...this.entries.keys()].sort();
    const busy = names.filter((n) => this.entries.get(n)!.busy);
    const idle = names.filter((n) => !this.entries.get(n)!.busy);
    if (busy.length === 0 || idle.length === 0) return;
    const off = busy[randomInt(this.random, busy.length)]!;
    const on = idle[randomInt(this.random, idle.length)]!;
    this.entries.get(off)!.busy = false;
    this.entries.get(on)!.busy = true;
    this.switched++;
  }
}

/**
 * Max-min fair share of `capacity` among `demands`: when the host is not
 * overcommitted everyone gets what it wants; otherwise small demands are met
 * in full and the rest split what is left equally. Returns allocations in
 * the order given.
 */
export function fairShare(capacity: number, demands: readonly number[]): number[] {
  const total = demands.reduce((a, b) => a + b, 0);
  // Exact demands when they fit (no rounding through the share loop); else the simulator's max-min share.
  return total <= capacity ? [...demands] : fairShares(demands, capacity);
}
