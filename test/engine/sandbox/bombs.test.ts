/**
 * Memory bombs and other allocation-heavy loops (issue 11, part 4): every
 * call stops at its time or memory limit whichever builtin or operator does
 * the work, and the policy's next call in the same round still runs. Before
 * the interrupt checks were paced (pacing.ts), five of the loops below did
 * not stop within 10 s (concat, spread, JSON.stringify, slice and split, each
 * dropping what it builds), and a loop of million-item spreads ran six minutes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createPolicySandbox, loadSandbox } from "../../../engine/sandbox/index.js";
import { sharedModule } from "../../../engine/sandbox/module.js";
import { InterruptPacer } from "../../../engine/sandbox/pacing.js";

beforeAll(async () => {
  await loadSandbox();
});

const TIME = "script bomb: time limit of 50 ms exceeded";
const MEMORY = "script bomb: memory limit of 32 MiB exceeded";

/** Bodies of `function bomb()`: `keep` ones hold what they build, the others drop it every turn. */
const BOMBS: [string, string][] = [
  ["map, kept", "const keep = []; const a = new Array(1e5).fill(1); while (true) keep.push(a.map((x) => x + 1));"],
  ["map, dropped", "const a = new Array(3e5).fill(1); while (true) a.map((x) => x + 1);"],
  ["concat, doubling", "let a = [1]; while (true) a = a.concat(a);"],
  ["concat, dropped", "const a = new Array(2e5).fill(1); while (true) a.concat(a);"],
  ["spread, kept", "const keep = []; const a = new Array(1e5).fill(1); while (true) keep.push([...a, ...a]);"],
  ["spread, dropped", "const a = new Array(2e5).fill(1); while (true) { const b = [...a]; }"],
  // Cheap polls first (the check period grows), then big operations that no wrapper sees.
  ["spread after a cheap loop", "const a = new Array(1e6).fill(1); for (let i = 0; i < 1e5; i++) {} while (true) { const b = [...a]; }"],
  ["string +=", "let s = ''; const part = 'x'.repeat(1 << 16); while (true) s += part + s.length;"],
  ["string +, dropped", "const s = 'x'.repeat(1 << 20); while (true) { const t = (s + s).length; }"],
  ["JSON.stringify of a growing object", "let o = { a: 1 }; while (true) o = { a: o, b: JSON.stringify(o) };"],
  ["JSON.stringify, dropped", "const o = new Array(3e4).fill({ a: 1, b: 'xx' }); while (true) JSON.stringify(o);"],
  ["Object.assign, kept", "const keep = []; const src = {}; for (let i = 0; i < 1e4; i++) src['k' + i] = i; while (true) keep.push(Object.assign({}, src));"],
  ["Object.assign, dropped", "const src = {}; for (let i = 0; i < 3e4; i++) src['k' + i] = i; while (true) Object.assign({}, src);"],
  ["Array(n).fill", "const keep = []; while (true) keep.push(Array(1e6).fill(0));"],
  ["new Array(n).fill, dropped", "while (true) new Array(1e6).fill(1);"],
  ["Array.from({ length })", "const keep = []; while (true) keep.push(Array.from({ length: 1e5 }, () => 1));"],
  ["Array.apply", "const keep = []; while (true) keep.push(Array.apply(null, Array(6e4)));"],
  ["[...Array(n)]", "const keep = []; while (true) keep.push([...Array(1e5)]);"],
  ["Array(n).fill().map", "const keep = []; while (true) keep.push(Array(1e5).fill().map((_, i) => i));"],
  ["Float64Array", "const keep = []; while (true) keep.push(new Float64Array(1 << 17));"],
  ["slice, dropped", "const a = new Array(3e5).fill(1); while (true) a.slice();"],
  ["split, dropped", "const s = 'a,'.repeat(1e5); while (true) s.split(',');"],
  ["Object.keys, dropped", "const o = {}; for (let i = 0; i < 3e4; i++) o['k' + i] = i; while (true) Object.keys(o);"],
];

describe("allocation-heavy script calls", () => {
  it("pace QuickJS's interrupt checks on the shipped WASM build (the counter was found)", () => {
    expect(new InterruptPacer(sharedModule()!.module).active).toBe(true);
  });

  for (const [label, body] of BOMBS) {
    it(`stop at a limit within one call: ${label}`, () => {
      const sb = createPolicySandbox({
        policy: "demo",
        scripts: [{ source: `function bomb() { ${body} }\nfunction ok(x) { return x + 1; }`, sourceStart: { offset: 0, line: 1, column: 1 } }],
        limits: { memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 500 },
      });
      try {
        sb.beginRound();
        const started = performance.now();
        const result = sb.call("bomb", []);
        // A hang guard, not a benchmark (80-400 ms measured under load): unpaced, five of these ran for minutes.
        expect(performance.now() - started).toBeLessThan(2000);
        expect(result.ok).toBe(false);
        expect([TIME, MEMORY]).toContain((result as { message: string }).message);
        // Charged its call limit only: the round's next call runs.
        expect(sb.call("ok", [1])).toEqual({ ok: true, value: 2 });
      } finally {
        sb.dispose();
      }
    });
  }

  it("stop a loop of spreads, which no builtin wrapper can see, at the time limit", () => {
    const sb = createPolicySandbox({
      policy: "demo",
      scripts: [{ source: "function bomb() { const a = new Array(1e5).fill(1); while (true) { const b = [...a]; } }\nfunction ok() { return 1; }", sourceStart: { offset: 0, line: 1, column: 1 } }],
      limits: { memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 120 },
    });
    sb.beginRound();
    for (let i = 0; i < 2; i++) expect(sb.call("bomb", [])).toEqual({ ok: false, message: TIME });
    // Two overruns were charged 50 ms each of the 120 ms budget: 20 ms are left for the rest of the round.
    expect(sb.call("ok", [])).toEqual({ ok: true, value: 1 });
    sb.dispose();
  });
});

describe("without paced checks", () => {
  it("still stop loops of the wrapped builtins when the interrupt counter cannot be found", () => {
    // A module that hides its WASM memory: the counter cannot be found, QuickJS keeps its own period of 10 000 polls.
    const real = sharedModule()!.module;
    const hidden = new Proxy(real, {
      get: (target, key) => (key === "getWasmMemory" ? () => { throw new Error("hidden"); } : Reflect.get(target, key, target)),
    });
    expect(new InterruptPacer(hidden).active).toBe(false);
    const sb = createPolicySandbox({
      policy: "demo",
      scripts: [{ source: "function bomb() { const a = new Array(2e5).fill(1); while (true) a.concat(a); }\nfunction ok() { return 1; }", sourceStart: { offset: 0, line: 1, column: 1 } }],
      limits: { memoryBytes: 32 * 1024 * 1024, callMs: 50, roundMs: 500 },
      module: hidden,
    });
    sb.beginRound();
    const started = performance.now();
    expect(sb.call("bomb", [])).toEqual({ ok: false, message: TIME });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sb.call("ok", [])).toEqual({ ok: true, value: 1 });
    sb.dispose();
  });
});
