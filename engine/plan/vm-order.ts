/**
 * The name order of all VMs of a snapshot (`VmView.index`), computed once
 * per `Facts` object and kept while the object lives. Sorting 200k names
 * costs ~100 ms, so it is done only when something asks for a VM's index or
 * the list of all VMs, and a snapshot planned twice (the `plan` command with
 * `--explain` and without, the benchmark) sorts once: `Facts` are immutable.
 */
import type { Facts } from "../types.js";

/** `rank[p]` is the name-order position of the VM at traversal position `p` (hosts and their VMs as the snapshot lists them). */
const cache = new WeakMap<Facts, Uint32Array>();

/** The rank of every VM, by traversal position. */
export function vmRanks(facts: Facts): Uint32Array {
  let rank = cache.get(facts);
  if (rank === undefined) {
    rank = computeRanks(facts);
    cache.set(facts, rank);
  }
  return rank;
}

function computeRanks(facts: Facts): Uint32Array {
  const names: string[] = [];
  for (const host of facts.hosts) for (const vm of host.vms) names.push(vm.name);
  const n = names.length;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (names[i - 1]! > names[i]!) sorted = false;
  if (!sorted) order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  const rank = new Uint32Array(n);
  for (let k = 0; k < n; k++) rank[order[k]!] = k;
  return rank;
}
