/**
 * The checker on many mutated policies (fast-check): it never throws, and
 * whenever it accepts a set, its side tables are complete — the compiler's
 * precondition (grammar/types.ts).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePolicy } from "../../grammar/parse.js";
import { checkPolicySet } from "../../grammar/checker.js";
import type { Call, Expr, NameRef } from "../../grammar/ast.js";

const SOURCES = ["policies/cslb.policy", "policies/evacuate.policy", "policies/examples/affinity.policy", "policies/examples/consolidate.policy"].map((f) =>
  readFileSync(f, "utf8"),
);
const WORDS = ["host", "vm", "src", "dst", "mean", "band", "up", "down", "heavy", "light", "load", "cpu", "group", "none", "true", "1", "\"x\"", "[up]", "can_move(vm, host)", "abs(1)", "pick host by host.load", "exists host"];
const EXPR_KINDS = new Set(["NumberLit", "DurationLit", "StringLit", "BoolLit", "NoneLit", "NameRef", "Paren", "ListLit", "Member", "Unary", "Binary", "Call", "Aggregate", "Count", "Quantifier", "Pick"]);

function nodes(root: unknown, out: { kind: string }[] = []): { kind: string }[] {
  if (Array.isArray(root)) root.forEach((r) => nodes(r, out));
  else if (root !== null && typeof root === "object") {
    const o = root as Record<string, unknown>;
    if (typeof o["kind"] === "string") out.push(o as { kind: string });
    for (const [k, v] of Object.entries(o)) if (!k.toLowerCase().endsWith("span")) nodes(v, out);
  }
  return out;
}

describe("checker properties", () => {
  it("never throws on mutated policies; an accepted set has complete side tables", () => {
    let parsedCount = 0;
    let accepted = 0;
    const words = (text: string) => [...text.matchAll(/[A-Za-z_][A-Za-z0-9_]*|\d+/g)];
    fc.assert(
      fc.property(fc.nat(SOURCES.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(WORDS.length - 1)), { minLength: 1, maxLength: 3 }), (which, edits) => {
        let text = SOURCES[which]!;
        for (const [at, w] of edits) {
          const found = words(text);
          const m = found[at % found.length]!;
          text = text.slice(0, m.index) + WORDS[w]! + text.slice(m.index! + m[0].length);
        }
        const parsed = parsePolicy(text, "m.policy");
        if (parsed.ast === null) return;
        parsedCount++;
        const result = checkPolicySet([parsed.ast]);
        for (const d of result.diagnostics) expect(d.span.start.line).toBeGreaterThan(0);
        if (!result.ok) return;
        accepted++;
        const p = result.policies[0]!;
        for (const n of nodes(p.ast)) {
          if (!EXPR_KINDS.has(n.kind)) continue;
          expect(p.types.has(n as Expr)).toBe(true);
          if (n.kind === "NameRef") expect(p.symbols.has(n as NameRef)).toBe(true);
          if (n.kind === "Call") expect(p.calls.has(n as Call)).toBe(true);
        }
      }),
      { numRuns: 400, seed: 42 },
    );
    // Not vacuous: many mutants parse, and some of those the checker accepts.
    expect([parsedCount > 100, accepted > 20]).toEqual([true, true]);
  });
});
