/**
 * The projected cluster of one round: mutable host and VM nodes that
 * implement the read-only `HostView` / `VmView` of `grammar/view.ts`. Derived
 * fields are plain properties recomputed only when a planned action moves a
 * VM, so compiled policies read them at property-access cost.
 */
import type { HostStateName } from "../types.js";
import type { Facts, HostFact, MigrationFact, PlannedAction, VmFact } from "../types.js";
import type { HostView, VmView } from "../../grammar/view.js";
import { vmRanks } from "./vm-order.js";

import { compareNames } from "../names.js";

export { compareNames };

/** A host of the projected cluster; the planner updates it as actions are planned. */
export class HostNode implements HostView {
  readonly name: string;
  readonly state: HostStateName;
  readonly cpus: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  load = 0;
  load_avg = 0;
  readonly other_cpu: number;
  used = 0;
  mem_used = 0;
  mem_free = 0;
  mem_avail = 0;
  /**
   * The memory ceiling guests may fill: `mem`, or where `mem_avail` was
   * measured, at most what was free then plus what its VMs used then (so a
   * VM planned in or out moves mem_avail exactly as it moves mem_free).
   */
  private readonly memCeiling: number;
  vm_count = 0;
  busy = false;
  readonly index: number;
  /** Migrations and restarts this host takes part in, planned or in flight (the `max_per_host` count). */
  moves = 0;

  /** Its VMs, built on first read (most hosts' VMs are never looked at: CSLB reads heavy hosts' only). */
  private nodes: readonly VmNode[] | null = null;

  constructor(
    private readonly fact: HostFact,
    index: number,
    private readonly cluster: Cluster,
    /** Traversal position of its first VM in the snapshot. */
    private readonly firstPos: number,
  ) {
    this.name = fact.name;
    this.state = fact.state;
    this.cpus = fact.cpus;
    this.mem = fact.mem;
    this.labels = fact.labels;
    this.index = index;
    this.other_cpu = fact.other_cpu ?? 0;
    let memUsed = 0;
    for (let i = 0; i < fact.vms.length; i++) memUsed += fact.vms[i]!.mem;
    this.memCeiling = fact.mem_avail === undefined ? fact.mem : fact.mem_avail + memUsed;
    this.recompute(fact.vms);
  }

  /** Name order; replaced (never mutated) when a VM moves, so a list a caller holds stays a stable snapshot. */
  get vms(): readonly VmNode[] {
    if (this.nodes === null) this.nodes = this.cluster.materialize(this, this.fact.vms, this.firstPos);
    return this.nodes;
  }

  set vms(nodes: readonly VmNode[]) {
    this.nodes = nodes;
    this.recompute(nodes);
  }

  /** Recomputes the derived fields (exact sums, so no drift builds up across moves). */
  private recompute(vms: readonly { readonly cpu: number; readonly cpu_avg: number; readonly mem: number }[]): void {
    let cpu = 0;
    let cpuAvg = 0;
    let mem = 0;
    for (let i = 0; i < vms.length; i++) {
      const vm = vms[i]!;
      cpu += vm.cpu;
      cpuAvg += vm.cpu_avg;
      mem += vm.mem;
    }
    this.load = cpu / this.cpus;
    this.load_avg = cpuAvg / this.cpus;
    this.used = (cpu + this.other_cpu) / this.cpus;
    this.mem_used = mem;
    this.mem_avail = this.memCeiling - mem;
    this.mem_free = Math.min(this.mem, this.memCeiling) - mem;
    this.vm_count = vms.length;
  }
}

/** A VM of the projected cluster. */
export class VmNode implements VmView {
  readonly name: string;
  readonly cpu: number;
  readonly cpu_avg: number;
  readonly cpu_changes: number;
  readonly mem: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly pinned: boolean;
  migrating = false;
  host: HostNode;
  load: number;
  /** The in-flight migration from the snapshot, when `migrating`. */
  inFlight: MigrationFact | null = null;
  /** Seconds since its last migration (from `recent`); Infinity when it has none. */
  secondsAgo = Infinity;
  /** The action planned for it this round, if any (one action per VM). */
  planned: PlannedAction | null = null;
  /** Position in the name-sorted list of all VMs; -1 until asked for (it costs a sort of all names, see vm-order.ts). */
  private slot = -1;
  private readonly cluster: Cluster;
  /** Position in the snapshot's traversal order (hosts and VMs as listed), the key into the name ranks. */
  readonly pos: number;

  constructor(fact: VmFact, host: HostNode, cluster: Cluster, pos: number) {
    this.name = fact.name;
    this.cpu = fact.cpu;
    this.cpu_avg = fact.cpu_avg;
    this.cpu_changes = fact.cpu_changes;
    this.mem = fact.mem;
    this.labels = fact.labels;
    this.pinned = fact.pinned;
    this.host = host;
    this.load = fact.cpu / host.cpus;
    this.cluster = cluster;
    this.pos = pos;
  }

  get index(): number {
    if (this.slot < 0) this.slot = this.cluster.rankOf(this.pos);
    return this.slot;
  }
}

/**
 * Hosts are built eagerly (sorted by name: 10k names cost ~2 ms); a host's
 * VM nodes only when something reads its `vms` (or the global `vms`, or
 * `vmByName`). A CSLB round over 200k VMs touches the VMs of its heavy hosts
 * only, so it never allocates 200k objects; a `vm.index` costs one sort of
 * all names per snapshot (vm-order.ts).
 */
export class Cluster {
  readonly hosts: readonly HostNode[];
  /** Built on first use: most rounds look hosts up by name only for in-flight migrations, if at all. */
  private hostMap: Map<string, HostNode> | null = null;
  private readonly migrating = new Map<string, MigrationFact>();
  private readonly recent = new Map<string, number>();
  private readonly vmCount: number;
  private sortedVms: VmNode[] | null = null;
  private vmMap: Map<string, VmNode> | null = null;

  constructor(private readonly facts: Facts) {
    for (const m of facts.migrating) this.migrating.set(m.vm, m);
    for (const r of facts.recent) {
      const prev = this.recent.get(r.vm);
      this.recent.set(r.vm, prev === undefined ? r.seconds_ago : Math.min(prev, r.seconds_ago));
    }
    const hostFacts = facts.hosts;
    const firstPos = new Array<number>(hostFacts.length);
    let pos = 0;
    for (let i = 0; i < hostFacts.length; i++) {
      firstPos[i] = pos;
      pos += hostFacts[i]!.vms.length;
    }
    this.vmCount = pos;
    const order = nameOrder(hostFacts);
    const hosts: HostNode[] = new Array(hostFacts.length);
    for (let h = 0; h < order.length; h++) {
      const at = order[h]!;
      const host = new HostNode(hostFacts[at]!, h, this, firstPos[at]!);
      hosts[h] = host;
    }
    this.hosts = hosts;
    // In-flight migrations make both ends busy and count toward max_per_host.
    for (const m of facts.migrating) {
      for (const end of [m.from, m.to]) {
        const host = this.hostByName(end);
        if (host !== undefined) {
          host.busy = true;
          host.moves++;
        }
      }
    }
  }

  /** Builds the VM nodes of one host, in name order, with their `migrating` and cooldown state. */
  materialize(host: HostNode, facts: readonly VmFact[], firstPos: number): VmNode[] {
    const order = nameOrder(facts);
    const nodes: VmNode[] = new Array(facts.length);
    for (let i = 0; i < order.length; i++) {
      const at = order[i]!;
      const vm = new VmNode(facts[at]!, host, this, firstPos + at);
      if (this.migrating.size > 0) {
        const m = this.migrating.get(vm.name);
        if (m !== undefined) {
          vm.migrating = true;
          vm.inFlight = m;
        }
      }
      if (this.recent.size > 0) {
        const ago = this.recent.get(vm.name);
        if (ago !== undefined) vm.secondsAgo = ago;
      }
      nodes[i] = vm;
    }
    return nodes;
  }

  /** The name-order position of the VM at traversal position `pos`. */
  rankOf(pos: number): number {
    return vmRanks(this.facts)[pos]!;
  }

  get vms(): readonly VmNode[] {
    if (this.sortedVms === null) {
      const all: VmNode[] = new Array(this.vmCount);
      for (const host of this.hosts) for (const vm of host.vms) all[vm.index] = vm;
      this.sortedVms = all;
    }
    return this.sortedVms;
  }

  hostByName(name: string): HostNode | undefined {
    if (this.hostMap === null) {
      const map = new Map<string, HostNode>();
      for (const host of this.hosts) map.set(host.name, host);
      this.hostMap = map;
    }
    return this.hostMap.get(name);
  }

  vmByName(name: string): VmNode | undefined {
    if (this.vmMap === null) {
      const map = new Map<string, VmNode>();
      for (const host of this.hosts) for (const vm of host.vms) map.set(vm.name, vm);
      this.vmMap = map;
    }
    return this.vmMap.get(name);
  }

  /**
   * Moves `vm` to `to` in the projected cluster: both hosts get new `vms`
   * lists (name order kept) and recomputed sums; the VM's `host` and `load`
   * follow. Bookkeeping of busy/moves is the caller's.
   */
  move(vm: VmNode, to: HostNode): void {
    const from = vm.host;
    if (from === to) return;
    from.vms = from.vms.filter((v) => v !== vm);
    const into = to.vms.slice();
    let at = into.length;
    while (at > 0 && compareNames(into[at - 1]!.name, vm.name) > 0) at--;
    into.splice(at, 0, vm);
    vm.host = to;
    vm.load = vm.cpu / to.cpus;
    to.vms = into;
  }
}

function isSortedByName(items: readonly { readonly name: string }[]): boolean {
  for (let i = 1; i < items.length; i++) if (items[i - 1]!.name > items[i]!.name) return false;
  return true;
}

/** Indices of `items` in name order (the identity when already sorted, the common case). */
function nameOrder(items: readonly { readonly name: string }[]): number[] {
  const order = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) order[i] = i;
  if (!isSortedByName(items)) order.sort((a, b) => compareNames(items[a]!.name, items[b]!.name));
  return order;
}
