import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Call, Expr, NameRef } from "../../grammar/ast.js";
import type { CheckedPolicy } from "../../grammar/types.js";
import { check, checkTexts, rows } from "./checker-helpers.js";

const EXPR_KINDS = new Set([
  "NumberLit", "DurationLit", "StringLit", "BoolLit", "NoneLit", "NameRef", "Paren", "ListLit",
  "Member", "Unary", "Binary", "Call", "Aggregate", "Count", "Quantifier", "Pick",
]);

/** Every node of a tree, found by walking every property (so no node kind can be forgotten). */
function nodes(root: unknown): { kind: string }[] {
  const out: { kind: string }[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (typeof o["kind"] === "string") out.push(o as { kind: string });
    for (const [k, child] of Object.entries(o)) if (k !== "span" && k !== "opSpan" && k !== "elementSpan" && k !== "fnSpan") visit(child);
  };
  visit(root);
  return out;
}

function symbolOf(policy: CheckedPolicy, line: number, column: number): string {
  const ref = nodes(policy.ast).find((n) => n.kind === "NameRef" && (n as NameRef).span.start.line === line && (n as NameRef).span.start.column === column) as NameRef;
  const s = policy.symbols.get(ref)!;
  return `${ref.name}:${s.kind}`;
}

const files = ["policies/cslb.policy", "policies/evacuate.policy", "policies/examples/affinity.policy", "policies/examples/consolidate.policy", "policies/examples/cslb-hysteresis.policy"];

describe("checker side tables (read by the compiler)", () => {
  it("every NameRef is resolved, every Expr typed, every Call resolved, in every shipped policy", () => {
    for (const f of files) {
      const result = checkTexts([[f, readFileSync(f, "utf8")]]);
      expect(result.ok).toBe(true);
      const policy = result.policies[0]!;
      const all = nodes(policy.ast);
      const exprs = all.filter((n) => EXPR_KINDS.has(n.kind)) as Expr[];
      expect(exprs.length).toBeGreaterThan(10);
      for (const e of exprs) expect(policy.types.has(e), `${f}: ${e.kind} at ${e.span.start.line}:${e.span.start.column} has a type`).toBe(true);
      for (const e of exprs.filter((x): x is NameRef => x.kind === "NameRef")) expect(policy.symbols.has(e), `${f}: ${e.name} resolved`).toBe(true);
      for (const e of exprs.filter((x): x is Call => x.kind === "Call")) expect(policy.calls.has(e), `${f}: ${e.callee.name} resolved`).toBe(true);
      for (const t of policy.types.values()) expect(t.kind).not.toBe("error");
    }
  });

  it("resolves each kind of name in cslb.policy to what SPEC 2.3–2.7 says", () => {
    const policy = checkTexts([["cslb.policy", readFileSync("policies/cslb.policy", "utf8")]]).policies[0]!;
    expect(symbolOf(policy, 7, 56)).toBe("up:state");
    expect(symbolOf(policy, 7, 17)).toBe("host:element"); // avg(host.load …)
    expect(symbolOf(policy, 8, 13)).toBe("mean:let");
    expect(symbolOf(policy, 8, 20)).toBe("band:param");
    expect(symbolOf(policy, 12, 21)).toBe("host:groupSubject");
    expect(symbolOf(policy, 18, 33)).toBe("src:element");
    expect(symbolOf(policy, 24, 15)).toBe("mid:let");
    expect(symbolOf(policy, 24, 21)).toBe("dst:ruleLet");
    expect(symbolOf(policy, 30, 16)).toBe("vm:ruleLet"); // `migrate vm`: the rule let, not the binding
    const dstLet = nodes(policy.ast).find((n) => n.kind === "LetClause" && (n as unknown as { name: { name: string } }).name.name === "dst") as unknown as { value: Expr };
    expect(policy.types.get(dstLet.value)).toEqual({ kind: "host" });
    const canMove = nodes(policy.ast).find((n) => n.kind === "Call") as Call;
    expect(policy.calls.get(canMove)).toEqual({ kind: "planner", name: "can_move" });
  });

  it("constraint subjects, labels and stdlib calls", () => {
    const result = check("policy p\nconstraint c when vm.labels.tier == \"db\" require abs(host.load) < 90\nrule r then alert \"x\"");
    const policy = result.policies[0]!;
    expect(symbolOf(policy, 2, 19)).toBe("vm:constraintSubject");
    expect(symbolOf(policy, 2, 54)).toBe("host:constraintSubject");
    const labels = nodes(policy.ast).find((n) => n.kind === "Member" && (n as unknown as { property: { name: string } }).property.name === "tier") as unknown as Expr;
    expect(policy.types.get(labels)).toEqual({ kind: "string" });
    const abs = nodes(policy.ast).find((n) => n.kind === "Call") as Call;
    expect(policy.calls.get(abs)).toEqual({ kind: "stdlib", name: "abs" });
  });
});

describe("checker: script functions", () => {
  const fakeAnalyzer = (result: ReturnType<import("../../grammar/types.js").ScriptAnalyzer["analyze"]>) => ({ analyze: () => result });
  const SOURCE = 'policy p\nscript """\nfunction headroom(host, target) {\n  return (target - host.load) * host.cpus;\n}\n"""\nlet want = max(headroom(pick host by host.load, 50), 0)\nrule r when want > 0 then alert "x"';

  it("an analyzed function is callable, with an arity check naming the arity", () => {
    const ok = check(SOURCE, { scripts: fakeAnalyzer({ ok: true, functions: [{ name: "headroom", arity: 2 }] }) });
    expect(rows(ok.diagnostics)).toEqual([]);
    expect(ok.policies[0]!.scriptFunctions).toEqual([{ name: "headroom", arity: 2, script: 0 }]);
    const call = nodes(ok.policies[0]!.ast).filter((n) => n.kind === "Call")[1] as Call;
    expect(ok.policies[0]!.calls.get(call)).toEqual({ kind: "script", name: "headroom", arity: 2, script: 0 });

    const wrong = check(SOURCE.replace(", 50)", ")"), { scripts: fakeAnalyzer({ ok: true, functions: [{ name: "headroom", arity: 2 }] }) });
    expect(rows(wrong.diagnostics)).toEqual([["T205", 7, 16, "`headroom` takes 2 arguments, got 1"]]);
  });

  it("without an analyzer a script function is an unknown function", () => {
    expect(rows(check(SOURCE).diagnostics)).toEqual([["T204", 7, 16, "unknown function `headroom`"]]);
  });

  it("a JavaScript error is reported at its line and column of the .policy file", () => {
    // Block line 3, column 10 → policy line 2 + 3 - 1 = 4, column 10.
    const result = check(SOURCE, { scripts: fakeAnalyzer({ ok: false, message: "SyntaxError: unexpected token", line: 3, column: 10 }) });
    expect(rows(result.diagnostics)).toEqual([
      ["T224", 4, 10, "script: SyntaxError: unexpected token"],
      ["T204", 7, 16, "unknown function `headroom`"],
    ]);
    // On the block's first line the column counts from the opening quotes.
    const inline = check('policy p\nscript """function f() { return 1 +; }"""\nrule r then alert "x"', { scripts: fakeAnalyzer({ ok: false, message: "SyntaxError", line: 1, column: 24 }) });
    expect(rows(inline.diagnostics)).toEqual([["T224", 2, 34, "script: SyntaxError"]]);
  });

  it("a script function may not take a built-in's name", () => {
    const result = check('policy p\nscript """function abs(x) { return x; }"""\nrule r then alert "x"', { scripts: fakeAnalyzer({ ok: true, functions: [{ name: "abs", arity: 1 }] }) });
    expect(rows(result.diagnostics)).toEqual([["T225", 2, 1, "script function `abs` has the name of a built-in function; rename it"]]);
  });

  it("with the QuickJS sandbox's analyzer: functions found, a syntax error placed in the .policy file", async () => {
    const sandbox = (await import("../../engine/sandbox/index.js")) as { loadSandbox(): Promise<void>; scriptAnalyzer(): import("../../grammar/types.js").ScriptAnalyzer };
    await sandbox.loadSandbox();
    const scripts = sandbox.scriptAnalyzer();
    const ok = check(SOURCE, { scripts });
    expect(rows(ok.diagnostics)).toEqual([]);
    expect(ok.policies[0]!.scriptFunctions).toEqual([{ name: "headroom", arity: 2, script: 0 }]);
    const broken = check(SOURCE.replace("return (target", "return ((target"), { scripts });
    const t224 = broken.diagnostics.find((d) => d.code === "T224")!;
    expect(t224.span.start.line).toBe(4);
    expect(t224.message).toMatch(/^script: /);
  });
});
