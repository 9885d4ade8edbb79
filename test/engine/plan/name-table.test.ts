import { describe, expect, it } from "vitest";
import { NameTable } from "../../../engine/plan/name-table.js";
import { parseFactsJson } from "../../../engine/plan/facts.js";

// Two names with the same 32-bit hash (found by search): the table must tell them apart by the names themselves.
const SAME_HASH = ["vm-36vu", "vm-ayea"] as const;

/**
 * `count` names whose hashes share their low `bits` bits, as a hostile agent
 * could choose them: a prefix, then the three letters that steer the hash
 * there (FNV-1a run backwards: each step's multiplier is odd, so it has an
 * inverse modulo 2^32, and the low bits depend on the low bits only).
 */
function sameLowBits(count: number, bits: number, target: number): string[] {
  const mask = (1 << bits) - 1;
  const prime = 0x01000193;
  let inverse = 1;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(prime, inverse));
  const suffixFor = new Map<number, string>();
  for (let a = 97; a < 123; a++) {
    for (let b = 97; b < 123; b++) {
      for (let c = 97; c < 123; c++) {
        let h = target;
        for (const code of [c, b, a]) h = (Math.imul(h, inverse) ^ code) & mask;
        suffixFor.set(h, String.fromCharCode(a, b, c));
      }
    }
  }
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const prefix = `vm-${i.toString(36)}-`;
    const suffix = suffixFor.get(NameTable.hash(prefix) & mask);
    if (suffix !== undefined) names.push(prefix + suffix);
  }
  return names;
}

describe("NameTable", () => {
  it("tells apart names whose hashes are equal", () => {
    expect(NameTable.hash(SAME_HASH[0])).toBe(NameTable.hash(SAME_HASH[1]));
    const at = [[SAME_HASH[0], SAME_HASH[1]]];
    const table = new NameTable(2, (host, position) => at[host]![position]!);
    expect(table.add(SAME_HASH[0], 0, 0)).toBe(-1);
    expect(table.add(SAME_HASH[1], 0, 1)).toBe(-1);
    expect(table.add(SAME_HASH[1], 0, 1)).toBe(1);
    expect([table.find(SAME_HASH[0]), table.find(SAME_HASH[1]), table.find("vm-other")]).toEqual([0, 1, -1]);
    expect(table.positionOf(table.find(SAME_HASH[1]))).toBe(1);
  });

  it("finds every name it holds, the empty one too (its hash is the start value, stored as a signed integer)", () => {
    const names = ["", "a", "vm1"];
    const table = new NameTable(3, (_host, position) => names[position]!);
    names.forEach((name, i) => expect(table.add(name, 0, i)).toBe(-1));
    names.forEach((name, i) => expect([table.add(name, 0, i), table.find(name), table.has(name)]).toEqual([i, i, true]));
  });

  it("spreads names chosen to share their hashes' low bits (about one probe each, not one per name before)", () => {
    const names = sameLowBits(5000, 18, 12345);
    expect(new Set(names.map((n) => NameTable.hash(n) & 0x3ffff))).toEqual(new Set([12345]));
    const table = new NameTable(names.length, (_host, position) => names[position]!);
    names.forEach((name, i) => expect(table.add(name, 0, i)).toBe(-1));
    expect(table.probes).toBeLessThan(3 * names.length);
  });

  it("grows past the count it was sized for and keeps every entry", () => {
    const names = Array.from({ length: 5000 }, (_, i) => `n${i}`);
    const table = new NameTable(0, (_host, position) => names[position]!);
    names.forEach((name, i) => expect(table.add(name, 0, i)).toBe(-1));
    names.forEach((name, i) => expect(table.find(name)).toBe(i));
    expect(table.add("n4999", 0, 4999)).toBe(4999);
    expect(table.has("n5000")).toBe(false);
  });

  it("lets both readers of a snapshot take the two names, and refuse either twice", () => {
    const snapshot = (names: readonly string[], spaced: boolean): string => {
      const text = JSON.stringify({ hosts: [{ name: "h", state: "up", cpus: 4, mem: 1024, vms: names.map((name) => ({ name, cpu: 1, mem: 1 })) }] });
      // White space sends the text from the fast path's written-VM reader to its general one; the errors always come from the validator.
      return spaced ? text.replaceAll(",", ", ") : text;
    };
    for (const spaced of [false, true]) {
      expect(parseFactsJson(snapshot(SAME_HASH, spaced), "f.json").ok).toBe(true);
      expect(parseFactsJson(snapshot([SAME_HASH[0], SAME_HASH[1], SAME_HASH[0]], spaced), "f.json")).toEqual({
        ok: false,
        errors: [{ path: "hosts[0].vms[2].name", message: 'duplicate VM name "vm-36vu" on host h (also hosts[0].vms[0])' }],
      });
    }
  });
});
