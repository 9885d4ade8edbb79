import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { type ByteSource, scanFactsSource, scanFactsText } from "../../../engine/plan/facts-scan.js";
import { type FactsResult, parseFactsJson, parseFactsSource, validateFacts } from "../../../engine/plan/facts.js";

/** The general path alone: JSON.parse, then the validator. */
function general(text: string): FactsResult | "syntax" {
  let input: unknown;
  try {
    input = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return "syntax";
  }
  return validateFacts(input);
}

/** parseFactsJson's answer is the general path's: the same facts (key order aside) or the same errors. */
function expectSameAsGeneral(text: string): void {
  const want = general(text);
  const got = parseFactsJson(text, "f.json");
  if (want === "syntax") {
    expect(got.ok).toBe(false);
    return;
  }
  expect(isDeepStrictEqual(got, want), `${text.slice(0, 300)}\n${JSON.stringify(got).slice(0, 300)}\n${JSON.stringify(want).slice(0, 300)}`).toBe(true);
}

/** Reads `text` in pieces of the given sizes (cycled), as a file is read. */
function pieces(text: string, sizes: number[]): ByteSource {
  const bytes = Buffer.from(text, "latin1");
  let at = 0;
  let turn = 0;
  return (into, offset, length) => {
    const n = Math.min(length, sizes[turn++ % sizes.length]!, bytes.length - at);
    bytes.copy(into, offset, at, at + n);
    at += n;
    return n;
  };
}

/** A varied valid snapshot: labels, pinned VMs, measured hosts, other_cpu, mem_avail, in-flight and recent migrations. */
function snapshot(hosts = 6, vms = 5): unknown {
  const out = [];
  let n = 0;
  for (let h = 0; h < hosts; h++) {
    const list = [];
    for (let v = 0; v < vms; v++, n++) {
      list.push({
        name: `vm${n}`,
        cpu: (n * 37.3) % 400,
        mem: 512 * (1 + (n % 8)),
        ...(n % 3 === 0 ? { labels: { tier: n % 2 === 0 ? "web" : "db", "zone id": "a b" } } : {}),
        ...(n % 7 === 0 ? { pinned: true } : {}),
        ...(n % 4 === 0 ? { cpu_avg: (n * 11.25) % 300, cpu_changes: n % 5 } : {}),
      });
    }
    out.push({
      name: `host${h}`,
      state: ["up", "degraded", "maintenance", "down"][h % 4],
      cpus: 8 * (1 + (h % 4)),
      mem: 65536,
      ...(h % 2 === 0 ? { labels: { rack: `r${h}` } } : {}),
      ...(h % 3 === 0 ? { other_cpu: 12.5, mem_avail: 30000, measured: ["cpu", "mem_avail"] } : {}),
      vms: list,
    });
  }
  return { hosts: out, migrating: [{ vm: "vm0", from: "host0", to: "host1" }], recent: [{ vm: "vm3", seconds_ago: 40 }] };
}

const valid = (hosts?: number, vms?: number): string => {
  const r = validateFacts(snapshot(hosts, vms));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return JSON.stringify(r.facts);
};

describe("facts fast path (facts-scan.ts)", () => {
  it("reads what the engine writes (JSON.stringify of valid facts) and gives the general path's facts", () => {
    const text = valid();
    expect(scanFactsText(text)).not.toBeNull();
    expectSameAsGeneral(text);
  });

  it("reads other plain spellings too: white space, other key orders, defaults left out", () => {
    const raw = snapshot() as { hosts: Record<string, unknown>[] };
    const reordered = { recent: [], hosts: raw.hosts.map((h) => Object.fromEntries(Object.entries(h).reverse())) };
    for (const text of [JSON.stringify(raw), JSON.stringify(raw, null, 2), JSON.stringify(reordered), "\r\n\t " + JSON.stringify(raw) + " \n", "\ufeff" + JSON.stringify(raw)]) {
      expect(scanFactsText(text.replace(/^\ufeff/, ""))).not.toBeNull();
      expectSameAsGeneral(text);
    }
  });

  it("gives each number exactly JSON.parse's value", () => {
    const withChanges = (spelling: string): string => `{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1,"vms":[{"name":"v","cpu":1,"mem":1,"cpu_changes":${spelling}}]}]}`;
    const changesOf = (text: string): unknown => {
      const r = parseFactsJson(text, "f.json");
      return r.ok && r.facts.hosts[0]!.vms[0]!.cpu_changes;
    };
    const spellings = ["0", "0.0", "7", "1.5", "12.30", "0.1", "0.7", "99.99", "123456789012345", "1.23456789012345", "0.00000000000001"];
    spellings.push("1234567890123456789", "0.30000000000000004", "45.123456789012344", "1e2", "1E2", "2.5e-3", "2.5E+3", "0e0");
    for (const spelling of spellings) {
      expect(scanFactsText(withChanges(spelling)), spelling).not.toBeNull();
      expect(changesOf(withChanges(spelling)), spelling).toBe(JSON.parse(spelling));
    }
    // Every double as the engine writes it (JSON.stringify: up to 17 digits), and every value toFixed writes.
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e300, noNaN: true }), (x) => {
        const text = withChanges(JSON.stringify(x));
        expect(scanFactsText(text)).not.toBeNull();
        expect(changesOf(text)).toBe(x);
      }),
      { numRuns: 2000, seed: 5 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), fc.integer({ min: 0, max: 3 }), (m, scale) => {
        const spelling = (m / 10 ** scale).toFixed(scale);
        expect(changesOf(withChanges(spelling))).toBe(JSON.parse(spelling));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("leaves every other snapshot to the general path, which gives its answer", () => {
    const vm = (fields: string): string => `{"hosts":[{"name":"h","state":"up","cpus":4,"mem":1024,"vms":[${fields}]}]}`;
    const left = [
      vm(`{"name":"v\\u0031","cpu":1,"mem":1}`), // an escape
      vm(`{"name":"vé","cpu":1,"mem":1}`), // not ASCII
      vm(`{"name":"v","cpu":-0,"mem":1}`),
      vm(`{"name":"v","cpu":01,"mem":1}`),
      vm(`{"name":"v","cpu":1.,"mem":1}`),
      vm(`{"name":"v","cpu":.5,"mem":1}`),
      vm(`{"name":"v","cpu":-1,"mem":1}`),
      vm(`{"name":"v","cpu":1e400,"mem":1}`),
      vm(`{"name":"v","cpu":1e,"mem":1}`),
      vm(`{"name":"v","cpu":1,"cpu":2,"mem":1}`), // a repeated key (JSON.parse keeps the last)
      vm(`{"name":"v","cpu":1,"mem":1,"cpu_avgs":1}`),
      vm(`{"name":"v","cpu":1,"mem":1},{"name":"v","cpu":1,"mem":1}`),
      vm(`{"name":"","cpu":1,"mem":1}`),
      vm(`{"name":"v","cpu":1638401,"mem":1}`), // over FACT_BOUNDS.cpu
      vm(`{"name":"v","cpu":1,"mem":1,"pinned":"yes"}`),
      vm(`{"name":"v","cpu":1,"mem":1,"labels":{"a":1}}`),
      vm(`{"name":"v","cpu":null,"mem":1}`),
      vm(`{"cpu":1,"mem":1}`),
      vm(`{}`),
      vm(`{"name":"v","cpu":1,"mem":1},`),
      `{"hosts":[{"name":"h","state":"sleeping","cpus":4,"mem":1,"vms":[]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":0,"mem":1,"vms":[]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":1.5,"mem":1,"vms":[]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1,"vms":[]},{"name":"h","state":"up","cpus":1,"mem":1,"vms":[]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1,"vms":[{"name":"v","cpu":1,"mem":1}]},{"name":"g","state":"up","cpus":1,"mem":1,"vms":[{"name":"v","cpu":1,"mem":1}]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1,"measured":["cpu","cpu"],"vms":[]}]}`,
      `{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1}]}`,
      `{"hosts":[],"recent":[{"vm":"v","seconds_ago":1,"__proto__":1}]}`,
      `{"hosts":[],"recent":{}}`,
      `{"hosts":[],"hosts":[]}`,
      `{"hosts":[]} x`,
      `{"hosts":[]`,
      `{}`,
      `[]`,
      ``,
    ];
    // The same refusals in the engine's own spelling, which the written-VM reader takes.
    const written = (fields: Record<string, string>): string =>
      vm(
        "{" +
          Object.entries({ name: '"v"', cpu: "1", mem: "1", labels: "{}", pinned: "false", cpu_avg: "1", cpu_changes: "0", ...fields })
            .map(([k, v]) => `"${k}":${v}`)
            .join(",") +
          "}",
      );
    expect(scanFactsText(written({}))).not.toBeNull();
    left.push(
      written({ name: '"v\\u0031"' }),
      written({ name: '""' }),
      written({ cpu: "1638401" }),
      written({ cpu: "-1" }),
      written({ mem: "1073741825" }),
      written({ cpu_avg: "1638400.5" }),
      written({ cpu_changes: "1e400" }),
      written({ pinned: "0" }),
      written({ pinned: "truth" }),
      written({ cpu_changes: "0.5.5" }),
      written({ labels: '{"a":1}' }),
      vm(`{"name":"v","cpu":1,"mem":1,"labels":{},"pinned":false,"cpu_avg":1,"cpu_changes":0},{"name":"v","cpu":1,"mem":1,"labels":{},"pinned":false,"cpu_avg":1,"cpu_changes":0}`),
    );
    for (const text of left) {
      expect(scanFactsText(text), text).toBeNull();
      expectSameAsGeneral(text);
    }
    // Read by the fast path, then refused by the checks of what migrating and recent name, which both paths share.
    for (const text of [`{"hosts":[],"migrating":[{"vm":"v","from":"a","to":"b"}]}`, `{"hosts":[],"recent":[{"vm":"v","seconds_ago":1},{"vm":"v","seconds_ago":2}]}`]) {
      expect(scanFactsText(text), text).not.toBeNull();
      expect(parseFactsJson(text, "f.json").ok).toBe(false);
      expectSameAsGeneral(text);
    }
  });

  it("agrees with the general path on every small change to a valid snapshot", () => {
    // As the engine writes it (every VM read by the written-VM reader) and as a person might (defaults left out).
    const bases = [valid(2, 2), JSON.stringify({ hosts: (snapshot(2, 2) as { hosts: unknown[] }).hosts, recent: [{ vm: "vm1", seconds_ago: 3 }] })];
    const alphabet = ' {}[]",:.-+0123456789eEtrufalsnxvmh\\é';
    for (const [i, text] of bases.entries()) {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 0, max: 2 }), fc.constantFrom(...alphabet), (at, kind, c) => {
          const changed = kind === 0 ? text.slice(0, at) + text.slice(at + 1) : kind === 1 ? text.slice(0, at) + c + text.slice(at) : text.slice(0, at) + c + text.slice(at + 1);
          expectSameAsGeneral(changed);
        }),
        { numRuns: 3000, seed: 11 + i },
      );
    }
  });

  it("reads a file's bytes in any pieces, without asking for the whole file", () => {
    const text = valid(100, 20); // several windows
    expect(text.length).toBeGreaterThan(3 * 65536);
    const want = general(text);
    for (const sizes of [[1], [7], [65536], [3, 50_000, 1, 900]]) {
      // With a UTF-8 byte order mark too (its three bytes, as Latin-1 reads them).
      for (const file of [text, "\xef\xbb\xbf" + text]) {
        let wholeAsked = 0;
        const got = parseFactsSource(pieces(file, sizes), file.length, () => (wholeAsked++, Buffer.from(file, "latin1")), "f.json");
        expect(isDeepStrictEqual(got, want)).toBe(true);
        expect(wholeAsked).toBe(0);
      }
    }
  });

  it("reads the whole file the general way when the fast path cannot", () => {
    // One VM longer than the 64 KiB window, and, apart, a file with an error.
    const big = snapshot(2, 2) as { hosts: { vms: { labels?: Record<string, string> }[] }[] };
    big.hosts[1]!.vms[0]!.labels = { note: "x".repeat(100_000) };
    const bigText = JSON.stringify(big);
    expect(scanFactsSource(pieces(bigText, [65536]), bigText.length)).toBeNull();
    const broken = valid().replace('"cpus":8', '"cpus":-8');
    for (const text of [bigText, broken]) {
      let wholeAsked = 0;
      const got = parseFactsSource(pieces(text, [4096]), text.length, () => (wholeAsked++, Buffer.from(text)), "f.json");
      expect(isDeepStrictEqual(got, general(text))).toBe(true);
      expect(wholeAsked).toBe(1);
    }
    expect(parseFactsSource(pieces(broken, [4096]), broken.length, () => Buffer.from(broken), "f.json")).toEqual({
      ok: false,
      errors: [{ path: "hosts[0].cpus", message: "must be a positive integer" }],
    });
  });

  it("takes a non-ASCII file through the general path's UTF-8 decoding", () => {
    const text = valid().replace('"name":"vm1"', '"name":"vmé"');
    const bytes = Buffer.from(text, "utf8");
    let at = 0;
    const source: ByteSource = (into, offset, length) => {
      const n = Math.min(length, bytes.length - at);
      bytes.copy(into, offset, at, at + n);
      at += n;
      return n;
    };
    const got = parseFactsSource(source, bytes.length, () => bytes, "f.json");
    expect(got.ok && got.facts.hosts[0]!.vms[1]!.name).toBe("vmé");
  });
});
