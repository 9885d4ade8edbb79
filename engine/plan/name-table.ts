/**
 * The VM names of a facts snapshot, for the uniqueness checks of both readers
 * (facts.ts and facts-scan.ts): an open-addressing hash table over typed
 * arrays. A `Map` of 200,000 names cost more than JSON.parse's share of the
 * snapshot's validation (mostly in the garbage collector, copying its growing
 * backing store). This table holds only integers: each slot keeps its entry
 * and the name's full hash side by side (one cache line per probe), and a
 * name is fetched from where the snapshot holds it (`nameAt`) only when the
 * hashes are equal, so it keeps no string and compares almost none.
 *
 * Where a hash lands is mixed with a seed drawn once per process: names are
 * what a host's agent sends, and with a known placement, names chosen to share
 * the low bits of their hashes piled into one run of slots (30,000 of them
 * took 3.3 s to check instead of 0.2 s).
 */
import { randomBytes } from "node:crypto";

const SEED = randomBytes(4).readInt32LE(0);

/** Where `hash` starts probing: murmur3's finalizer over the seeded hash, so every bit of it moves the low ones. */
function mix(hash: number): number {
  let h = hash ^ SEED;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
/** The name of the VM at `hosts[host].vms[position]`, as it was added. */
export type NameAt = (host: number, position: number) => string;

export class NameTable {
  /** Two per slot: entry number + 1 (0: empty), then the name's hash. */
  private slots: Int32Array;
  /** Slot count - 1 (a power of two). */
  private mask: number;
  private count = 0;
  private hosts: Int32Array;
  private positions: Int32Array;
  /** Slots visited by every lookup so far: about one per name when the hashes spread. */
  probes = 0;

  /** `capacity`: how many names are expected; more are taken, at the cost of growing the table. */
  constructor(
    capacity: number,
    private readonly nameAt: NameAt,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
    this.hosts = new Int32Array(Math.max(capacity, 8));
    this.positions = new Int32Array(Math.max(capacity, 8));
  }

  /** FNV-1a over the UTF-16 code units, as a signed 32-bit integer (the value a slot stores). */
  static hash(name: string): number {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return h;
  }

  /** The slot holding `name`, or the empty slot where it would go. */
  private slotOf(name: string, hash: number): number {
    const slots = this.slots;
    let s = mix(hash) & this.mask;
    for (;;) {
      this.probes++;
      const entry = slots[2 * s]!;
      if (entry === 0 || (slots[2 * s + 1] === hash && this.nameAt(this.hosts[entry - 1]!, this.positions[entry - 1]!) === name)) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** Adds `name`, found at `hosts[host].vms[position]`; returns the entry it already had, or -1 when it is new. */
  add(name: string, host: number, position: number, hash = NameTable.hash(name)): number {
    const s = this.slotOf(name, hash);
    const entry = this.slots[2 * s]!;
    if (entry !== 0) return entry - 1;
    const n = this.count;
    if (n === this.hosts.length || (n + 1) * 2 > this.mask + 1) return this.grow(name, host, position, hash);
    this.count = n + 1;
    this.hosts[n] = host;
    this.positions[n] = position;
    this.slots[2 * s] = n + 1;
    this.slots[2 * s + 1] = hash;
    return -1;
  }

  /** Doubles what is full and adds `name` (new): for a reader that does not know the count ahead. */
  private grow(name: string, host: number, position: number, hash: number): number {
    const n = this.count;
    if (n === this.hosts.length) {
      const hosts = new Int32Array(n * 2);
      hosts.set(this.hosts);
      this.hosts = hosts;
      const positions = new Int32Array(n * 2);
      positions.set(this.positions);
      this.positions = positions;
    }
    if ((n + 1) * 2 > this.mask + 1) {
      const old = this.slots;
      const size = (this.mask + 1) * 2;
      this.slots = new Int32Array(size * 2);
      this.mask = size - 1;
      for (let i = 0; i < old.length; i += 2) {
        if (old[i] === 0) continue;
        let s = mix(old[i + 1]!) & this.mask;
        while (this.slots[2 * s] !== 0) s = (s + 1) & this.mask;
        this.slots[2 * s] = old[i]!;
        this.slots[2 * s + 1] = old[i + 1]!;
      }
    }
    return this.add(name, host, position, hash);
  }

  has(name: string): boolean {
    return this.slots[2 * this.slotOf(name, NameTable.hash(name))] !== 0;
  }

  /** The entry of `name`, or -1. */
  find(name: string): number {
    return this.slots[2 * this.slotOf(name, NameTable.hash(name))]! - 1;
  }

  hostOf(entry: number): number {
    return this.hosts[entry]!;
  }

  positionOf(entry: number): number {
    return this.positions[entry]!;
  }
}
