/**
 * Number and duration literals too large for a double: `1e400` would become
 * Infinity, which no fact can be compared with sensibly and which the plan's
 * JSON prints as null. It is a syntax error (P113) naming the literal.
 */
import { describe, expect, it } from "vitest";
import { parsePolicy } from "../grammar/parse.js";

function errors(src: string): string[] {
  const r = parsePolicy(src, "t.policy");
  expect(r.ast).toBeNull();
  return r.diagnostics.map(
    (d) => `${d.code} ${d.span.start.line}:${d.span.start.column}-${d.span.end.line}:${d.span.end.column} ${d.message}`,
  );
}

describe("P113: a literal too large for a number", () => {
  it("in a param, an expression, a duration and a priority", () => {
    const big = "9".repeat(400);
    expect(errors(`policy p\nparam a = 1e400\nlet b = 2 * -1E+309\nlet c = ${big}h\nrule r priority 1e999 then alert "x"\n`)).toEqual([
      "P113 2:11-2:16 `1e400` is too large for a number: the largest is about 1.8e308",
      "P113 3:14-3:20 `1E+309` is too large for a number: the largest is about 1.8e308",
      `P113 4:9-4:410 \`${big}h\` is too large for a number: the largest is about 1.8e308`,
      "P113 5:17-5:22 `1e999` is too large for a number: the largest is about 1.8e308",
    ]);
  });

  it("the largest double and tiny numbers are fine", () => {
    const r = parsePolicy("policy p\nparam a = 1.7e308\nparam b = 1e-400\n", "t.policy");
    expect(r.diagnostics).toEqual([]);
  });
});

/**
 * P114: the checker, compiler and formatter recurse over expressions, so an
 * expression thousands of levels deep used to crash them (a stack overflow
 * thrown out of `vmpolicy check`) or come back as "internal parser error".
 * Now it is a syntax error naming where; everything up to the bound works.
 */
describe("P114: an expression nested too deeply", () => {
  const sum = (n: number): string => Array(n).fill("1").join(" + ");

  it("a flat sum of 257 terms is 257 levels deep: rejected where it starts", () => {
    const r = parsePolicy(`policy p\nlet a = ${sum(257)}\n`, "t.policy");
    expect(r.ast).toBeNull();
    expect(r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column, d.message])).toEqual([
      ["P114", 2, 9, "expression nested too deeply: more than 256 levels of operators, parentheses or calls; split it with `let`"],
    ]);
  });

  it("3,000 parentheses and 20,000 `not`s: P114 at the deepest point, not an internal error", () => {
    const parens = parsePolicy(`policy p\nlet a = ${"(".repeat(3000)}1${")".repeat(3000)}\n`, "t.policy");
    expect(parens.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column])).toEqual([["P114", 2, 3008]]);
    const nots = parsePolicy(`policy p\nlet a = ${"not ".repeat(20000)}true\n`, "t.policy");
    expect(nots.diagnostics.map((d) => d.code)).toEqual(["P114"]);
    const deepInRule = parsePolicy(`policy p\nrule r for each host where host.load > ${"-".repeat(5000)}1 then evacuate host\n`, "t.policy");
    expect(deepInRule.diagnostics.map((d) => d.code)).toEqual(["P114"]);
  });

  it("at the bound, the file parses, checks, formats and plans", async () => {
    const { checkPolicySet } = await import("../grammar/checker.js");
    const { formatPolicy } = await import("../grammar/format.js");
    const { planWith, host } = await import("./scenarios/helpers.js");
    const text = `policy p\nlet a = ${sum(256)}\nlet b = ${"(".repeat(254)}a${")".repeat(254)}\nrule r when b > 1 then alert "deep"\n`;
    const parsed = parsePolicy(text, "t.policy");
    expect(parsed.diagnostics).toEqual([]);
    expect(checkPolicySet([parsed.ast!]).diagnostics).toEqual([]);
    expect(formatPolicy(text, "t.policy").output).toContain("then alert");
    const plan = await planWith([{ file: "t.policy", text }], { hosts: [host("h1", 2, 8192, [])] });
    expect(plan.values["p"]!["a"]).toBe(256);
    expect(plan.actions).toEqual([{ kind: "alert", message: "deep", rule: "p.r" }]);
  });
});
