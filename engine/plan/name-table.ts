/**
 * The VM names of a facts snapshot, for the uniqueness check of
 * engine/plan/facts.ts: an open-addressing hash table over typed arrays.
 * A `Map` of 200,000 names cost more than JSON.parse's share of the
 * snapshot's validation (mostly in the garbage collector, copying its growing
 * backing store); this table is sized once from the VM count, holds only
 * small integers, and allocates nothing per name.
 */
export class NameTable {
  /** Slot → entry number + 1 (0: empty). */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly names: string[] = [];
  private readonly hosts: Int32Array;
  private readonly positions: Int32Array;

  /** `capacity`: how many names will be added at most. */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    this.hosts = new Int32Array(capacity);
    this.positions = new Int32Array(capacity);
  }

  /** FNV-1a over the UTF-16 code units. */
  private static hash(name: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return h;
  }

  /** The slot holding `name`, or the empty slot where it would go. */
  private slotOf(name: string): number {
    let s = NameTable.hash(name) & this.mask;
    for (;;) {
      const entry = this.slots[s]!;
      if (entry === 0 || this.names[entry - 1] === name) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** Adds `name`, found at `hosts[host].vms[position]`; returns the entry it already had, or -1 when it is new. */
  add(name: string, host: number, position: number): number {
    const s = this.slotOf(name);
    const entry = this.slots[s]!;
    if (entry !== 0) return entry - 1;
    const n = this.names.length;
    this.names.push(name);
    this.hosts[n] = host;
    this.positions[n] = position;
    this.slots[s] = n + 1;
    return -1;
  }

  has(name: string): boolean {
    return this.slots[this.slotOf(name)] !== 0;
  }

  /** The entry of `name`, or -1. */
  find(name: string): number {
    return this.slots[this.slotOf(name)]! - 1;
  }

  hostOf(entry: number): number {
    return this.hosts[entry]!;
  }

  positionOf(entry: number): number {
    return this.positions[entry]!;
  }
}
