import { beforeAll, describe, expect, it } from "vitest";
import { createPolicySandbox, loadSandbox, scriptAnalyzer } from "../../../engine/sandbox/index.js";
import { DEFAULT_SCRIPT_LIMITS } from "../../../engine/types.js";

beforeAll(async () => {
  await loadSandbox();
});

/** A sandbox whose single block starts on line 10, column 5 of the policy file. */
function sandboxOf(source: string, log?: (policy: string, message: string) => void) {
  return createPolicySandbox({
    policy: "demo",
    scripts: [{ source, sourceStart: { offset: 200, line: 10, column: 5 } }],
    limits: DEFAULT_SCRIPT_LIMITS,
    log,
  });
}

const EXPECTED = "expected a number, string, bool, null or a list of those";

describe("scriptAnalyzer", () => {
  it("lists top-level function declarations and var-assigned functions with their arity", () => {
    const result = scriptAnalyzer().analyze(
      [
        "function headroom(host, target) { return (target - host.load) * host.cpus; }",
        "function none() { return null; }",
        "var twice = function (x) { return 2 * x; };",
        "const helper = (a, b) => a + b;   // lexical: private to the block",
        "let counter = 0;",
        "function withDefault(a, b = 1) { return a + b; }",
      ].join("\n"),
    );
    expect(result).toEqual({
      ok: true,
      functions: [
        { name: "headroom", arity: 2 },
        { name: "none", arity: 0 },
        { name: "twice", arity: 1 },
        { name: "withDefault", arity: 1 },
      ],
    });
  });

  it("reports a syntax error with its line and column relative to the block", () => {
    expect(scriptAnalyzer().analyze("\n\nfunction f(a, b {\n}")).toEqual({ ok: false, message: "SyntaxError: expecting ','", line: 3, column: 17 });
    expect(scriptAnalyzer().analyze("function g() {\n  let x = 1;\n  x = ;\n}")).toEqual({
      ok: false,
      message: "SyntaxError: unexpected token in expression: ';'",
      line: 3,
      column: 7,
    });
  });

  it("reports top-level code that throws, at the throwing line", () => {
    expect(scriptAnalyzer().analyze("function f() {}\nnull.x;")).toEqual({
      ok: false,
      message: "TypeError: cannot read property 'x' of null",
      line: 2,
      column: 5,
    });
  });

  it("stops top-level code that never ends", () => {
    const started = Date.now();
    const result = scriptAnalyzer().analyze("function f() {}\nwhile (true) {}");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ ok: false, message: "the block's top-level code exceeded the time limit of 50 ms" });
  });

  it("analyses each block in a fresh context", () => {
    const analyzer = scriptAnalyzer();
    expect(analyzer.analyze("function a() {}")).toEqual({ ok: true, functions: [{ name: "a", arity: 0 }] });
    expect(analyzer.analyze("function b(x) {}")).toEqual({ ok: true, functions: [{ name: "b", arity: 1 }] });
  });
});

describe("PolicySandbox calls", () => {
  it("passes JSON arguments and returns numbers, strings, bools, null and lists", () => {
    const sb = sandboxOf(
      [
        "function headroom(host, target) { return (target - host.load) * host.cpus; }",
        "function biggest(host) { return host.vms.slice().sort().reverse()[0]; }",
        "function isRack(host, rack) { return host.labels.rack === rack; }",
        "function nothing() { return null; }",
        "function noReturn() {}",
        "function names(host) { return host.vms.filter((n) => n.startsWith('web')); }",
        "function mixed() { return [1, 'a', true, null, undefined]; }",
      ].join("\n"),
    );
    sb.beginRound();
    const host = { name: "xen1", load: 40, cpus: 8, labels: { rack: "r1" }, vms: ["db1", "web1", "web2"] };
    expect(sb.call("headroom", [host, 64])).toEqual({ ok: true, value: 192 });
    expect(sb.call("biggest", [host])).toEqual({ ok: true, value: "web2" });
    expect(sb.call("isRack", [host, "r1"])).toEqual({ ok: true, value: true });
    expect(sb.call("isRack", [host, "r2"])).toEqual({ ok: true, value: false });
    expect(sb.call("nothing", [])).toEqual({ ok: true, value: null });
    expect(sb.call("noReturn", [])).toEqual({ ok: true, value: null });
    expect(sb.call("names", [host])).toEqual({ ok: true, value: ["web1", "web2"] });
    expect(sb.call("mixed", [])).toEqual({ ok: true, value: [1, "a", true, null, null] });
    sb.dispose();
  });

  it("hands arguments over read-only, so one call cannot change what the next one sees", () => {
    const sb = sandboxOf(
      [
        "function grab(host) { host.vms.push('intruder'); return host.vms.length; }",
        "function rename(host) { host.name = 'other'; return host.name; }",
        "function count(host) { return host.vms.length; }",
        "function sorted(host) { return [...host.vms].sort().reverse(); }",
      ].join("\n"),
    );
    sb.beginRound();
    const host = { name: "h1", load: 10, vms: ["b", "a"] };
    expect(sb.call("grab", [host])).toMatchObject({ ok: false });
    expect((sb.call("grab", [host]) as { message: string }).message).toMatch(/^script grab: TypeError: .*\(line 10 of the policy file\)$/);
    expect(sb.call("rename", [host])).toEqual({ ok: true, value: "h1" }); // sloppy-mode write to a frozen object is ignored
    expect(sb.call("count", [host])).toEqual({ ok: true, value: 2 });
    expect(sb.call("sorted", [host])).toEqual({ ok: true, value: ["b", "a"] });
    // The same host with a new projected value is a new argument.
    expect(sb.call("count", [{ ...host, vms: ["a", "b", "c"] }])).toEqual({ ok: true, value: 3 });
    expect(host.vms).toEqual(["b", "a"]);
    sb.dispose();
  });

  it("passes a host again with moved fields as a fresh read-only copy, exactly as if parsed whole", () => {
    const sb = sandboxOf(
      [
        "function show(h) { return [h.load, h.busy, h.group, h.vms.length, h.labels.rack, Object.isFrozen(h), Object.isFrozen(h.vms), Object.keys(h).join(','), Object.is(h.load, -0)]; }",
        "function poke(h) { h.load = 1; return h.load; }",
      ].join("\n"),
    );
    sb.beginRound();
    const host = { name: "h1", load: 50, busy: false, group: "heavy", labels: { rack: "r1" }, vms: ["a", "b"] };
    const keys = "name,load,busy,group,labels,vms";
    expect(sb.call("show", [host])).toEqual({ ok: true, value: [50, false, "heavy", 2, "r1", true, true, keys, false] });
    // Scalars moved: built from the last version; the script cannot tell it from a parsed one.
    expect(sb.call("show", [{ ...host, load: 61.5, busy: true, group: null }])).toEqual({ ok: true, value: [61.5, true, null, 2, "r1", true, true, keys, false] });
    expect(sb.call("poke", [{ ...host, load: 70 }])).toEqual({ ok: true, value: 70 });
    expect(sb.call("show", [{ ...host, load: -0 }])).toEqual({ ok: true, value: [0, false, "heavy", 2, "r1", true, true, keys, false] });
    expect(sb.call("show", [{ ...host, load: Number.NaN }])).toEqual({ ok: true, value: [null, false, "heavy", 2, "r1", true, true, keys, false] });
    // A nested change (its VMs, its labels) or other keys cross whole.
    expect(sb.call("show", [{ ...host, vms: ["a"] }])).toEqual({ ok: true, value: [50, false, "heavy", 1, "r1", true, true, keys, false] });
    expect(sb.call("show", [{ ...host, labels: { rack: "r2" } }])).toEqual({ ok: true, value: [50, false, "heavy", 2, "r2", true, true, keys, false] });
    expect(sb.call("show", [{ name: "h1", load: 5, vms: [], labels: {} }])).toEqual({ ok: true, value: [5, null, null, 0, null, true, true, "name,load,vms,labels", false] });
    // A new round starts from nothing.
    sb.beginRound();
    expect(sb.call("show", [host])).toEqual({ ok: true, value: [50, false, "heavy", 2, "r1", true, true, keys, false] });
    sb.dispose();
  });

  it("picks a VM by name (the planner looks the string up)", () => {
    const sb = sandboxOf(
      "function pickVm(src, want) {\n  const fits = src.vms.filter((v) => v.cpu <= want).sort((a, b) => b.cpu - a.cpu || (a.name < b.name ? -1 : 1));\n  return fits.length ? fits[0].name : null;\n}",
    );
    sb.beginRound();
    const src = { name: "h1", vms: [{ name: "a", cpu: 30 }, { name: "b", cpu: 50 }, { name: "c", cpu: 80 }] };
    expect(sb.call("pickVm", [src, 60])).toEqual({ ok: true, value: "b" });
    expect(sb.call("pickVm", [src, 10])).toEqual({ ok: true, value: null });
    sb.dispose();
  });

  it("rejects results of the wrong kind with the exact message", () => {
    const sb = sandboxOf(
      [
        "function obj() { return { a: 1 }; }",
        "function fn() { return function () {}; }",
        "function nan() { return 0 / 0; }",
        "function inf() { return 1 / 0; }",
        "function nested() { return [1, [2]]; }",
        "function listObj() { return [{}]; }",
        "async function later() { return 1; }",
        "function big() { return 10n; }",
      ].join("\n"),
    );
    sb.beginRound();
    const cases: [string, string][] = [
      ["obj", "an object"],
      ["fn", "a function"],
      ["nan", "NaN"],
      ["inf", "Infinity"],
      ["nested", "a list containing a list"],
      ["listObj", "a list containing an object"],
      ["later", "a promise (async functions are not supported)"],
      ["big", "a bigint"],
    ];
    for (const [name, what] of cases) {
      expect(sb.call(name, [])).toEqual({ ok: false, message: `script ${name}: returned ${what}; ${EXPECTED}` });
    }
    sb.dispose();
  });

  it("reports a throw with the error and the line of the policy file", () => {
    const sb = sandboxOf("function f(x) {\n  return 1;\n}\nfunction g(x) {\n  return x.y.z;\n}\nfunction h() { throw 'boom'; }\nfunction k() { throw new RangeError('too far'); }");
    sb.beginRound();
    // Block line 5 is policy line 10 + 5 - 1 = 14.
    expect(sb.call("g", [{}])).toEqual({ ok: false, message: "script g: TypeError: cannot read property 'z' of undefined (line 14 of the policy file)" });
    expect(sb.call("h", [])).toEqual({ ok: false, message: "script h: boom" });
    expect(sb.call("k", [])).toEqual({ ok: false, message: "script k: RangeError: too far (line 17 of the policy file)" });
    expect(sb.call("f", [1])).toEqual({ ok: true, value: 1 });
    sb.dispose();
  });

  it("maps lines of the second block through its own start", () => {
    const sb = createPolicySandbox({
      policy: "demo",
      scripts: [
        { source: "function a() { return b(); }", sourceStart: { offset: 0, line: 3, column: 10 } },
        { source: "\nfunction b() {\n  return nope;\n}", sourceStart: { offset: 0, line: 20, column: 10 } },
      ],
      limits: DEFAULT_SCRIPT_LIMITS,
    });
    sb.beginRound();
    expect(sb.call("a", [])).toEqual({ ok: false, message: "script a: ReferenceError: 'nope' is not defined (line 22 of the policy file)" });
    sb.dispose();
  });

  it("fails an unknown function with a message", () => {
    const sb = sandboxOf("function f() { return 1; }\nconst hidden = () => 2;");
    sb.beginRound();
    expect(sb.call("g", [])).toEqual({ ok: false, message: "script g: no script block of policy demo defines a function g" });
    expect(sb.call("hidden", [])).toEqual({ ok: false, message: "script hidden: no script block of policy demo defines a function hidden" });
    sb.dispose();
  });

  it("makes every call fail with the load error when a block cannot load", () => {
    const sb = createPolicySandbox({
      policy: "demo",
      scripts: [
        { source: "function f() { return 1; }\nlet shared = 1;", sourceStart: { offset: 0, line: 2, column: 10 } },
        { source: "let shared = 2;", sourceStart: { offset: 0, line: 8, column: 10 } },
      ],
      limits: DEFAULT_SCRIPT_LIMITS,
    });
    sb.beginRound();
    expect(sb.call("f", [])).toEqual({
      ok: false,
      message: "script f: the script block starting on line 8 of the policy file failed to load: SyntaxError: redeclaration of 'shared'",
    });
    sb.dispose();
  });

  it("forwards console.log to the log tagged with the policy, and returns undefined to the script", () => {
    const lines: string[] = [];
    const sb = sandboxOf("function f(x) { const r = console.log('load', x, { a: [1] }, null); return r === undefined ? 'undef' : 'other'; }", (p, m) =>
      lines.push(`${p}: ${m}`),
    );
    sb.beginRound();
    expect(sb.call("f", [42])).toEqual({ ok: true, value: "undef" });
    expect(lines).toEqual(['demo: load 42 {"a":[1]} null']);
    sb.dispose();
  });

  it("caps console output per round", () => {
    const lines: string[] = [];
    const sb = sandboxOf("function spam() { for (let i = 0; i < 500; i++) console.log('line ' + i); return 1; }", (_p, m) => lines.push(m));
    sb.beginRound();
    expect(sb.call("spam", [])).toEqual({ ok: true, value: 1 });
    expect(lines.length).toBe(101);
    expect(lines[99]).toBe("line 99");
    expect(lines[100]).toBe("console output beyond 100 lines this round is dropped");
    sb.beginRound();
    sb.call("spam", []);
    expect(lines.length).toBe(202);
    sb.dispose();
  });

  it("refuses arguments that are not JSON values with a message", () => {
    const sb = sandboxOf("function f(x) { return 1; }");
    sb.beginRound();
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const result = sb.call("f", [loop]);
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(/^script f: arguments cannot cross into the sandbox: .*circular/i);
    expect(sb.call("f", [1])).toEqual({ ok: true, value: 1 });
    sb.dispose();
  });

  it("fails calls after dispose", () => {
    const sb = sandboxOf("function f() { return 1; }");
    sb.dispose();
    expect(sb.call("f", [])).toEqual({ ok: false, message: "script f: the policy's script sandbox was disposed" });
  });
});

describe("PolicySandbox hardening", () => {
  const probes: [string, string][] = [
    ["require", "function probe() { return require('fs'); }"],
    ["process", "function probe() { return process.env.HOME; }"],
    ["fetch", "function probe() { return fetch('http://127.0.0.1/'); }"],
    ["globalThis.process", "function probe() { return typeof globalThis.process + ' ' + typeof globalThis.require + ' ' + typeof globalThis.fetch; }"],
    ["constructor escape", "function probe() { return this.constructor.constructor('return process')(); }"],
    ["Function", "function probe() { return Function('return 1')(); }"],
    ["eval", "function probe() { return eval('1 + 1'); }"],
    ["Date", "function probe() { return Date.now(); }"],
    ["new Date", "function probe() { return new Date().getTime(); }"],
    ["Math.random", "function probe() { return Math.random(); }"],
    ["redefine Math.random", "function probe() { Math.random = () => 4; return Math.random(); }"],
    ["setTimeout", "function probe() { return setTimeout(() => 0, 1); }"],
  ];
  const expected: Record<string, { ok: boolean; message?: string; value?: unknown }> = {
    require: { ok: false, message: "script probe: ReferenceError: 'require' is not defined (line 10 of the policy file)" },
    process: { ok: false, message: "script probe: ReferenceError: 'process' is not defined (line 10 of the policy file)" },
    fetch: { ok: false, message: "script probe: ReferenceError: 'fetch' is not defined (line 10 of the policy file)" },
    "globalThis.process": { ok: true, value: "undefined undefined undefined" },
    "constructor escape": {
      ok: false,
      message: "script probe: TypeError: code generation from strings is not available in policy scripts: write the function in the script block (line 10 of the policy file)",
    },
    Function: {
      ok: false,
      message: "script probe: TypeError: code generation from strings is not available in policy scripts: write the function in the script block (line 10 of the policy file)",
    },
    eval: { ok: false, message: "script probe: ReferenceError: 'eval' is not defined (line 10 of the policy file)" },
    Date: { ok: false, message: "script probe: ReferenceError: 'Date' is not defined (line 10 of the policy file)" },
    "new Date": { ok: false, message: "script probe: ReferenceError: 'Date' is not defined (line 10 of the policy file)" },
    "Math.random": { ok: false, message: "script probe: TypeError: Math.random is not available in policy scripts: plans must be deterministic (line 10 of the policy file)" },
    "redefine Math.random": {
      ok: false,
      message: "script probe: TypeError: Math.random is not available in policy scripts: plans must be deterministic (line 10 of the policy file)",
    },
    setTimeout: { ok: false, message: "script probe: ReferenceError: 'setTimeout' is not defined (line 10 of the policy file)" },
  };
  for (const [label, source] of probes) {
    it(`blocks ${label}`, () => {
      const sb = sandboxOf(source);
      sb.beginRound();
      expect(sb.call("probe", [])).toEqual(expected[label]);
      sb.dispose();
    });
  }

  it("exposes no globals beyond the ECMAScript built-ins and console", () => {
    const sb = sandboxOf("function globals() { return Object.getOwnPropertyNames(globalThis).sort(); }");
    sb.beginRound();
    const result = sb.call("globals", []);
    expect(result.ok).toBe(true);
    const names = (result as { value: string[] }).value;
    for (const banned of ["require", "process", "fetch", "Date", "eval", "setTimeout", "WeakRef", "FinalizationRegistry", "std", "os"]) {
      expect(names).not.toContain(banned);
    }
    expect(names).toContain("console");
    expect(names).toContain("globals");
    sb.dispose();
  });

  it("is deterministic: the same calls give the same results, across sandboxes", () => {
    const source = [
      "function score(host) {",
      "  const m = new Map(host.vms.map((v, i) => [v, i * 7 % 5]));",
      "  const keys = [...m.keys()].sort((a, b) => m.get(a) - m.get(b) || (a < b ? -1 : 1));",
      "  return [keys.join(','), JSON.stringify({ b: 1, a: 2 }), [3, 1, 2].sort().join('')];",
      "}",
    ].join("\n");
    const host = { name: "h", vms: ["v1", "v2", "v3", "v4", "v5", "v6"] };
    const runs: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const sb = sandboxOf(source);
      for (let round = 0; round < 3; round++) {
        sb.beginRound();
        runs.push(sb.call("score", [host]));
      }
      sb.dispose();
    }
    expect(runs.every((r) => JSON.stringify(r) === JSON.stringify(runs[0]))).toBe(true);
    expect(runs[0]).toEqual({ ok: true, value: ["v1,v6,v4,v2,v5,v3", '{"b":1,"a":2}', "123"] });
  });
});
