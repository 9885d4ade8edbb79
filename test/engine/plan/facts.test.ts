import { describe, expect, it } from "vitest";
import { factsText, formatFactErrors, parseFactsJson, validateFacts } from "../../../engine/plan/facts.js";

interface VmJ {
  name: string;
  cpu: number;
  mem: number;
  labels?: Record<string, string>;
  pinned?: boolean;
  cpu_avg?: number;
  cpu_changes?: number;
}
interface HostJ {
  name: string;
  state: string;
  cpus: number;
  mem: number;
  labels?: Record<string, string>;
  vms: VmJ[];
}
interface FactsJ {
  hosts: HostJ[];
  migrating: { vm: string; from: string; to: string }[];
  recent: { vm: string; seconds_ago: number }[];
}

const good = (): FactsJ => ({
  hosts: [
    {
      name: "xen1",
      state: "up",
      cpus: 8,
      mem: 32768,
      labels: { rack: "r1" },
      vms: [
        { name: "web1", cpu: 95.5, mem: 2048, labels: { tier: "web" } },
        { name: "db1", cpu: 40, mem: 8192, pinned: true, cpu_avg: 35, cpu_changes: 2.5 },
      ],
    },
    { name: "xen2", state: "maintenance", cpus: 4, mem: 16384, vms: [{ name: "web7", cpu: 10, mem: 1024 }] },
  ],
  migrating: [{ vm: "web7", from: "xen2", to: "xen1" }],
  recent: [{ vm: "web1", seconds_ago: 20 }],
});

type Mutate = (f: ReturnType<typeof good>) => unknown;

/** Each bad input and the exact errors it gives. */
const bad: { name: string; mutate: Mutate; errors: [string, string][] }[] = [
  { name: "not an object", mutate: () => [1, 2], errors: [["(top level)", "must be an object with a hosts list"]] },
  { name: "no hosts", mutate: () => ({}), errors: [["hosts", "is missing: must be a list of hosts"]] },
  { name: "hosts not a list", mutate: () => ({ hosts: {} }), errors: [["hosts", "must be a list of hosts"]] },
  { name: "negative vm cpu", mutate: (f) => ((f.hosts[0]!.vms[0]!.cpu = -1), f), errors: [["hosts[0].vms[0].cpu", "must be a finite number ≥ 0"]] },
  {
    name: "non-finite and wrong-typed numbers",
    mutate: (f) => {
      (f.hosts[0]!.vms[1] as unknown as Record<string, unknown>).mem = "8192";
      f.hosts[1]!.vms[0]!.cpu = Infinity;
      (f.hosts[0] as unknown as Record<string, unknown>).mem = null;
      return f;
    },
    errors: [
      ["hosts[0].mem", "must be a finite number ≥ 0"],
      ["hosts[0].vms[1].mem", "must be a finite number ≥ 0"],
      ["hosts[1].vms[0].cpu", "must be a finite number ≥ 0"],
    ],
  },
  { name: "missing vm cpu", mutate: (f) => (delete (f.hosts[1]!.vms[0] as { cpu?: number }).cpu, f), errors: [["hosts[1].vms[0].cpu", "is missing: must be a finite number ≥ 0"]] },
  { name: "unknown state", mutate: (f) => ((f.hosts[0]!.state = "broken"), f), errors: [["hosts[0].state", "must be one of up, degraded, maintenance, down"]] },
  { name: "missing state", mutate: (f) => (delete (f.hosts[0] as { state?: string }).state, f), errors: [["hosts[0].state", "is missing: must be one of up, degraded, maintenance, down"]] },
  { name: "zero cpus", mutate: (f) => ((f.hosts[0]!.cpus = 0), f), errors: [["hosts[0].cpus", "must be a positive integer"]] },
  { name: "fractional cpus", mutate: (f) => ((f.hosts[0]!.cpus = 2.5), f), errors: [["hosts[0].cpus", "must be a positive integer"]] },
  { name: "empty host name", mutate: (f) => ((f.hosts[1]!.name = ""), f), errors: [["hosts[1].name", "must be a non-empty string"]] },
  { name: "missing vms", mutate: (f) => (delete (f.hosts[0] as { vms?: unknown }).vms, f), errors: [["hosts[0].vms", "is missing: must be a list of VMs (write [] for none)"]] },
  { name: "vm not an object", mutate: (f) => (((f.hosts[1]!.vms as unknown[])[0] = "web7"), f), errors: [["hosts[1].vms[0]", "must be an object"]] },
  { name: "labels not an object", mutate: (f) => (((f.hosts[0] as unknown as Record<string, unknown>).labels = ["r1"]), f), errors: [["hosts[0].labels", "must be an object of strings"]] },
  { name: "label not a string", mutate: (f) => ((f.hosts[0]!.vms[0]!.labels = { tier: 3 } as unknown as Record<string, string>), f), errors: [["hosts[0].vms[0].labels.tier", "must be a string"]] },
  { name: "odd label key", mutate: (f) => ((f.hosts[0]!.labels = { "a b": 1 } as unknown as Record<string, string>), f), errors: [['hosts[0].labels["a b"]', "must be a string"]] },
  { name: "pinned not a boolean", mutate: (f) => (((f.hosts[0]!.vms[1] as unknown as Record<string, unknown>).pinned = "yes"), f), errors: [["hosts[0].vms[1].pinned", "must be true or false"]] },
  { name: "cpu_changes not a number", mutate: (f) => (((f.hosts[0]!.vms[1] as unknown as Record<string, unknown>).cpu_changes = "often"), f), errors: [["hosts[0].vms[1].cpu_changes", "must be a finite number ≥ 0"]] },
  { name: "negative cpu_avg", mutate: (f) => ((f.hosts[0]!.vms[1]!.cpu_avg = -2), f), errors: [["hosts[0].vms[1].cpu_avg", "must be a finite number ≥ 0"]] },
  {
    name: "finite but implausibly large numbers (a real host's bounds)",
    mutate: (f) => {
      f.hosts[0]!.vms[0]!.cpu = 1e308;
      f.hosts[0]!.vms[1]!.cpu_avg = 1638400.5;
      f.hosts[1]!.vms[0]!.mem = 2 ** 31;
      f.hosts[1]!.cpus = 16385;
      f.hosts[0]!.mem = Number.MAX_VALUE;
      f.recent[0]!.seconds_ago = 1e12;
      return f;
    },
    errors: [
      ["hosts[0].mem", "must be at most 1073741824 (MiB, that is 1 PiB)"],
      ["hosts[0].vms[0].cpu", "must be at most 1638400 (percent of one CPU: 16384 CPUs fully busy)"],
      ["hosts[0].vms[1].cpu_avg", "must be at most 1638400 (percent of one CPU: 16384 CPUs fully busy)"],
      ["hosts[1].cpus", "must be at most 16384 (logical CPUs)"],
      ["hosts[1].vms[0].mem", "must be at most 1073741824 (MiB, that is 1 PiB)"],
      ["recent[0].seconds_ago", "must be at most 1000000000 (seconds, about 31 years)"],
    ],
  },
  {
    name: "duplicate host names",
    mutate: (f) => ((f.hosts[1]!.name = "xen1"), f),
    errors: [
      ["hosts[1].name", 'duplicate host name "xen1" (also hosts[0])'],
      ["migrating[0].from", 'unknown host "xen2"'],
    ],
  },
  {
    name: "a VM on two hosts",
    mutate: (f) => ((f.hosts[1]!.vms[0]!.name = "db1"), f),
    errors: [
      ["hosts[1].vms[0].name", 'VM "db1" is on two hosts: xen1 (hosts[0].vms[1]) and xen2 (hosts[1].vms[0])'],
      ["migrating[0].vm", 'unknown VM "web7"'],
    ],
  },
  {
    name: "a VM twice on one host",
    mutate: (f) => ((f.hosts[0]!.vms[1]!.name = "web1"), f),
    errors: [["hosts[0].vms[1].name", 'duplicate VM name "web1" on host xen1 (also hosts[0].vms[0])']],
  },
  {
    name: "unknown fields, with a suggestion for a near miss",
    mutate: (f) => {
      (f.hosts[0]!.vms[0] as unknown as Record<string, unknown>).cpu_avgs = 3;
      (f.hosts[0] as unknown as Record<string, unknown>).zone = "z";
      (f as unknown as Record<string, unknown>).hostz = [];
      return f;
    },
    errors: [
      ["hostz", "unknown field (did you mean hosts?); expected hosts, migrating, recent"],
      ["hosts[0].zone", "unknown field; expected name, state, cpus, mem, labels, vms, other_cpu, mem_avail, measured"],
      ["hosts[0].vms[0].cpu_avgs", "unknown field (did you mean cpu_avg?); expected name, cpu, mem, labels, pinned, cpu_avg, cpu_changes"],
    ],
  },
  {
    name: "migrating entries naming unknown VMs and hosts",
    mutate: (f) => ((f.migrating = [{ vm: "ghost", from: "xen9", to: "xen1" }, { vm: "web7", from: "xen1", to: "xen1" }]), f),
    errors: [
      ["migrating[0].vm", 'unknown VM "ghost"'],
      ["migrating[0].from", 'unknown host "xen9"'],
      ["migrating[1].to", 'must differ from from ("xen1")'],
    ],
  },
  {
    name: "a VM migrating between two hosts it is on neither of",
    mutate: (f) => (f.hosts.push({ name: "xen3", state: "up", cpus: 2, mem: 4096, vms: [] }), (f.migrating = [{ vm: "web7", from: "xen1", to: "xen3" }]), f),
    errors: [["migrating[0].vm", 'VM "web7" is on host "xen2", neither from ("xen1") nor to ("xen3")']],
  },
  {
    name: "a VM migrating twice",
    mutate: (f) => (f.migrating.push({ vm: "web7", from: "xen2", to: "xen1" }), f),
    errors: [["migrating[1].vm", '"web7" is already listed at migrating[0]']],
  },
  { name: "migrating not a list", mutate: (f) => (((f as unknown as Record<string, unknown>).migrating = {}), f), errors: [["migrating", "must be a list of { vm, from, to }"]] },
  {
    name: "recent entries",
    mutate: (f) => ((f.recent = [{ vm: "nobody", seconds_ago: -1 }, { vm: "web1", seconds_ago: 5 }, { vm: "web1", seconds_ago: 6 }]), f),
    errors: [
      ["recent[0].seconds_ago", "must be a finite number ≥ 0"],
      ["recent[0].vm", 'unknown VM "nobody"'],
      ["recent[2].vm", '"web1" is already listed at recent[1]'],
    ],
  },
  {
    name: "every problem at once, not just the first",
    mutate: (f) => {
      f.hosts[0]!.vms[0]!.cpu = -5;
      f.hosts[0]!.vms[1]!.mem = NaN;
      f.hosts[1]!.cpus = -1;
      return f;
    },
    errors: [
      ["hosts[0].vms[0].cpu", "must be a finite number ≥ 0"],
      ["hosts[0].vms[1].mem", "must be a finite number ≥ 0"],
      ["hosts[1].cpus", "must be a positive integer"],
    ],
  },
];

describe("validateFacts", () => {
  it("accepts a good snapshot and fills in the defaults", () => {
    const r = validateFacts(good());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.facts).toEqual({
      hosts: [
        {
          name: "xen1",
          state: "up",
          cpus: 8,
          mem: 32768,
          labels: { rack: "r1" },
          vms: [
            { name: "web1", cpu: 95.5, mem: 2048, labels: { tier: "web" }, pinned: false, cpu_avg: 95.5, cpu_changes: 0 },
            { name: "db1", cpu: 40, mem: 8192, labels: {}, pinned: true, cpu_avg: 35, cpu_changes: 2.5 },
          ],
        },
        { name: "xen2", state: "maintenance", cpus: 4, mem: 16384, labels: {}, vms: [{ name: "web7", cpu: 10, mem: 1024, labels: {}, pinned: false, cpu_avg: 10, cpu_changes: 0 }] },
      ],
      migrating: [{ vm: "web7", from: "xen2", to: "xen1" }],
      recent: [{ vm: "web1", seconds_ago: 20 }],
    });
  });

  it("defaults migrating and recent to empty lists", () => {
    const r = validateFacts({ hosts: [] });
    expect(r).toEqual({ ok: true, facts: { hosts: [], migrating: [], recent: [] } });
  });

  it("keeps labels named like Object members as plain labels", () => {
    const r = validateFacts(JSON.parse('{"hosts":[{"name":"h","state":"up","cpus":1,"mem":1,"labels":{"__proto__":"x","constructor":"y"},"vms":[]}]}'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const labels = r.facts.hosts[0]!.labels;
    expect(Object.keys(labels)).toEqual(["__proto__", "constructor"]);
    expect(labels["constructor"]).toBe("y");
    expect((r.facts.hosts[0]!.vms as unknown[]).length).toBe(0);
  });

  it("accepts the bounds themselves", () => {
    const f = good();
    f.hosts[0]!.vms[0]!.cpu = 1638400;
    f.hosts[1]!.cpus = 16384;
    f.hosts[1]!.mem = 1024 ** 3;
    f.recent[0]!.seconds_ago = 1e9;
    expect(validateFacts(f).ok).toBe(true);
  });

  for (const c of bad) {
    it(`rejects: ${c.name}`, () => {
      const r = validateFacts(c.mutate(good()));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.errors.map((e) => [e.path, e.message])).toEqual(c.errors);
    });
  }
});

describe("formatFactErrors", () => {
  it("prints PATH: MESSAGE, one per line", () => {
    expect(
      formatFactErrors([
        { path: "hosts[2].vms[0].cpu", message: "must be a finite number ≥ 0" },
        { path: "hosts[0].state", message: "must be one of up, degraded, maintenance, down" },
      ]),
    ).toBe("hosts[2].vms[0].cpu: must be a finite number ≥ 0\nhosts[0].state: must be one of up, degraded, maintenance, down");
  });
});

describe("parseFactsJson", () => {
  it("parses and validates", () => {
    const r = parseFactsJson(JSON.stringify(good()), "facts.json");
    expect(r.ok).toBe(true);
    const bom = parseFactsJson("\ufeff" + JSON.stringify({ hosts: [] }), "facts.json");
    expect(bom.ok).toBe(true);
  });

  it("gives the facts validateFacts gives: defaults filled in, labels without a prototype", () => {
    const f = good();
    // A VM with the six fields agents send is adopted from the parse rather than copied (cpu_changes, which only the engine derives, filled in): it must come out the same.
    f.hosts[1]!.vms.push({ name: "full", cpu: 1, mem: 2, labels: {}, pinned: true, cpu_avg: 3 }, { name: "full2", cpu: 1, mem: 2, labels: { a: "b" }, pinned: false, cpu_avg: 0 });
    const parsed = parseFactsJson(JSON.stringify(f), "facts.json");
    const validated = validateFacts(f);
    expect(parsed.ok && validated.ok).toBe(true);
    if (!parsed.ok || !validated.ok) return;
    expect(parsed.facts).toEqual(validated.facts);
    const vms = parsed.facts.hosts.flatMap((h) => h.vms);
    expect(vms.map((v) => Object.getPrototypeOf(v.labels))).toEqual(vms.map(() => null));
    expect(vms.map((v) => Object.keys(v).sort().join())).toEqual(vms.map(() => "cpu,cpu_avg,cpu_changes,labels,mem,name,pinned"));
  });

  it("finds every duplicate among 20,000 VM names, in order", () => {
    const hosts = Array.from({ length: 10 }, (_, h) => ({
      name: `h${h}`,
      state: "up",
      cpus: 8,
      mem: 1024,
      vms: Array.from({ length: 2000 }, (_, j) => ({ name: `v${(h * 2000 + j) % 15000}`, cpu: 1, mem: 1 })),
    }));
    const r = parseFactsJson(JSON.stringify({ hosts }), "f.json");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.length).toBe(5000);
    expect(r.errors[0]).toEqual({ path: "hosts[7].vms[1000].name", message: 'VM "v0" is on two hosts: h0 (hosts[0].vms[0]) and h7 (hosts[7].vms[1000])' });
    expect(r.errors[4999]).toEqual({ path: "hosts[9].vms[1999].name", message: 'VM "v4999" is on two hosts: h2 (hosts[2].vms[999]) and h9 (hosts[9].vms[1999])' });
  });

  it("reads a file's bytes as ASCII or, with any other byte, as UTF-8", () => {
    expect(factsText(Buffer.from('{"hosts":[]}'))).toBe('{"hosts":[]}');
    expect(factsText(Buffer.from('\ufeff{"n":"vé€😀"}', "utf8"))).toBe('\ufeff{"n":"vé€😀"}');
  });

  it("passes validation errors through", () => {
    const f = good();
    f.hosts[0]!.cpus = 0;
    const r = parseFactsJson(JSON.stringify(f), "facts.json");
    expect(r).toEqual({ ok: false, errors: [{ path: "hosts[0].cpus", message: "must be a positive integer" }] });
  });

  const syntax: [string, string, string][] = [
    ['{\n  "hosts": [\n    { "name": "a", }\n  ]\n}', "f.json:3:20", "invalid JSON: unexpected character \"}\": expected a double-quoted property name"],
    ['{"hosts": [1 2]}', "f.json:1:14", "invalid JSON: unexpected character \"2\": expected ',' or ']' after an array element"],
    ['{"hosts": x}', "f.json:1:11", 'invalid JSON: unexpected character "x": expected a value'],
    ['{"hosts": [', "f.json:1:12", "invalid JSON: unexpected end of input: expected a value"],
    ['{"a" 1}', "f.json:1:6", "invalid JSON: unexpected character \"1\": expected ':' after a property name"],
    ['{"a": "x\n"}', "f.json:1:9", "invalid JSON: control character in a string (escape it)"],
    ['{"a": "x', "f.json:1:7", "invalid JSON: unterminated string"],
    ['{"a": 1}\n}', "f.json:2:1", 'invalid JSON: unexpected character "}" after the end of the document'],
    ["", "f.json:1:1", "invalid JSON: unexpected end of input: expected a value"],
  ];
  it("survives nesting too deep to scan", () => {
    const r = parseFactsJson("[".repeat(200_000) + "x", "f.json");
    expect(r).toEqual({ ok: false, errors: [{ path: "f.json:1:1", message: "invalid JSON: Unexpected token 'x'" }] });
  });

  for (const [text, path, message] of syntax) {
    it(`reports ${JSON.stringify(text)} at ${path}`, () => {
      expect(parseFactsJson(text, "f.json")).toEqual({ ok: false, errors: [{ path, message }] });
    });
  }
});
