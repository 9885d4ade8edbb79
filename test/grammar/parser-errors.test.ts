import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parsePolicy } from "../../grammar/parse.js";

/** Each diagnostic as `CODE line:col-line:col message`. */
function errors(src: string): string[] {
  const r = parsePolicy(src, "t.policy");
  expect(r.ast).toBeNull();
  for (const d of r.diagnostics) {
    expect(d.severity).toBe("error");
    expect(d.span.file).toBe("t.policy");
  }
  return r.diagnostics.map(
    (d) => `${d.code} ${d.span.start.line}:${d.span.start.column}-${d.span.end.line}:${d.span.end.column} ${d.message}`,
  );
}

const DECL = "a declaration (`param`, `let`, `group`, `script`, `constraint` or `rule`)";

describe("syntax errors: one golden case per code", () => {
  const cases: [string, string, string[]][] = [
    ["P101 unknown character", "policy p\nlet a = 1 @ 2\n", ["P101 2:11-2:12 unexpected character `@`"]],
    ["P102 unterminated string", 'policy p\nlet a = "abc\n', ['P102 2:9-2:13 unterminated string: a closing `"` is missing on this line']],
    ["P103 unknown escape", 'policy p\nlet a = "a\\tb"\n', ['P103 2:11-2:13 unknown escape `\\t` in a string: only \\", \\\\ and \\n are allowed']],
    ["P104 unterminated script", 'policy p\nscript """\nfunction f() {}\n', ['P104 2:8-3:2 unterminated script block: a closing `"""` is missing']],
    ["P105 5min", "policy p\nparam d = 5min\n", [
      "P105 2:11-2:15 `5min` is not a number or a duration: write numbers as 12, 0.5 or 1e3 and durations as 30s, 5m or 2h",
    ]],
    ["P106 let rule", "policy p\nlet rule = 1\n", ["P106 2:5-2:9 `rule` is a reserved word and cannot be used as a name"]],
    ["P106 param for", "policy p\nparam for = 2\n", ["P106 2:7-2:10 `for` is a reserved word and cannot be used as a name"]],
    ["P106 alias", 'policy p\nrule r for each host as each then alert "x"\n', ["P106 2:25-2:29 `each` is a reserved word and cannot be used as a name"]],
    ["P107 missing then", "policy p\nrule r\n  when a\n  migrate vm to h\n", ["P107 4:3-4:10 expected `then`, found `migrate`"]],
    // A name one edit from a keyword, where the parser stops or just before: one error, naming the keyword.
    ["P107 misspelt exists", "policy p\nrule r for each host\n  when exist light host\n  then evacuate host\n", [
      "P107 3:14-3:19 expected `then`, found `light`; is `exist` a misspelt `exists`?",
    ]],
    ["P107 misspelt where, no knock-on error", "policy p\nrule r for each host as s\n  let v = pick vm in s.vms whre vm.cpu > 1 by vm.cpu\n  then migrate v to s\n", [
      "P107 3:28-3:32 expected `by`, found `whre`; is `whre` a misspelt `where`?",
    ]],
    ["P108 misspelt declaration keyword", "policy p\nparm band = 10\n", [`P108 2:1-2:5 expected ${DECL}, found \`parm\`; is \`parm\` a misspelt \`param\`?`]],
    ["P115 a dangling dot", 'policy p\nrule r\n  for each host\n  when host.\n  then alert "a"\n', [
      "P115 4:12-4:13 a `.` ends the line: the field name must follow it on the same line, as in `host.load`",
      "P107 5:8-5:13 expected `then`, found `alert`",
    ]],
    ["P107 missing ) at end of file", "policy p\nlet a = (1 + 2\n", ["P107 2:15-2:15 expected `)`, found the end of the file"]],
    ["P107 missing policy", "", ["P107 1:1-1:1 expected `policy`, found the end of the file"]],
    ["P108 missing expression", "policy p\nlet a = \n", ["P108 2:8-2:8 expected an expression, found the end of the file"]],
    ["P108 not a declaration", "policy p\nfoo = 1\n", [`P108 2:1-2:4 expected ${DECL}, found \`foo\``]],
    ["P108 not an action", "policy p\nrule r then launch h\n", [
      "P108 2:13-2:19 expected an action (`migrate`, `evacuate`, `recover` or `alert`), found `launch`",
    ]],
    ["P108 binding without element", "policy p\nlet a = exists light\n", ["P108 2:16-2:21 expected `host` or `vm`, found `light`"]],
    ["P108 param needs a literal", "policy p\nparam a = x\n", [
      "P108 2:11-2:12 expected a literal (a number, a duration, a string, `true` or `false`), found `x`",
    ]],
    ["P108 member name", "policy p\nlet a = a.\n", ["P108 2:11-2:11 expected a name, found the end of the file"]],
    ["P109 not an aggregate", "policy p\nlet a = foo(x for host)\n", [
      "P109 2:9-2:12 `foo(… for …)` is not an aggregate: only sum, avg, min, max, median and stddev take `VALUE for BINDING`",
    ]],
    ["P110 fractional priority", 'policy p\nrule r priority 1.5 then alert "x"\n', ["P110 2:17-2:20 priority must be a whole number, found `1.5`"]],
    ["P111 chained comparison", "policy p\nlet a = 1 < 2 < 3\n", [
      "P111 2:15-2:16 comparisons do not chain: `<` cannot compare the result of another comparison; join them with `and` or add parentheses",
    ]],
    ["P112 misplaced not", "policy p\nlet a = b == not c\n", [
      "P112 2:14-2:17 `not` cannot stand here: it applies to a whole comparison; put it in parentheses, as in `a == (not b)`",
    ]],
    ["P113 number too large", "policy p\nparam a = 1e400\n", ["P113 2:11-2:16 `1e400` is too large for a number: the largest is about 1.8e308"]],
    ["P114 nested too deeply", `policy p\nlet a = ${"(".repeat(300)}1${")".repeat(300)}\n`, [
      "P114 2:265-2:354 expression nested too deeply: more than 256 levels of operators, parentheses or calls; split it with `let`",
    ]],
  ];
  it.each(cases)("%s", (_name, src, expected) => {
    expect(errors(src)).toEqual(expected);
  });
});

describe("syntax errors: recovery", () => {
  it("reports all three errors of one file, in order", () => {
    const src = "policy p\nlet a = 1 +\nlet b = 2 2\nrule r then\ngroup g when x\n";
    expect(errors(src)).toEqual([
      "P108 3:1-3:4 expected an expression, found `let`",
      `P108 3:11-3:12 expected ${DECL}, found \`2\``,
      "P108 5:1-5:6 expected an action (`migrate`, `evacuate`, `recover` or `alert`), found `group`",
    ]);
  });

  it("reports lexical and grammatical errors together", () => {
    const src = 'policy p\nparam d = 5min\nlet rule = "a\\q"\nrule r when x then\n';
    expect(errors(src)).toEqual([
      "P105 2:11-2:15 `5min` is not a number or a duration: write numbers as 12, 0.5 or 1e3 and durations as 30s, 5m or 2h",
      "P106 3:5-3:9 `rule` is a reserved word and cannot be used as a name",
      'P103 3:14-3:16 unknown escape `\\q` in a string: only \\", \\\\ and \\n are allowed',
      "P108 4:19-4:19 expected an action (`migrate`, `evacuate`, `recover` or `alert`), found the end of the file",
    ]);
  });

  it("never throws, whatever the input", () => {
    const junk = ["policy", "policy p rule", "policy p let a = ((((", 'policy p script """', "))))", "policy p\nlet a = [1,", "\u0000\u00ff"];
    for (const src of junk) {
      const r = parsePolicy(src, "j");
      expect(r.ast).toBeNull();
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics.every((d) => d.code.startsWith("P1") && d.code !== "P199")).toBe(true);
    }
  });
});

describe("syntax errors: mutated policies", () => {
  const base = readFileSync("policies/cslb.policy", "utf8") + readFileSync("policies/examples/affinity.policy", "utf8").replace(/^policy \w+$/m, "");
  const pieces = ["(", ")", "[", "]", ",", ".", "=", "==", "??", "not", "for", "each", "by", "then", "host", "vm", "where", "in", "as", '"', '"""', "#", "\n", "-", "5min", "@", "pick", "exists", "count("];

  it("never throws nor fails internally, and every error has a real position", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length), fc.nat(8), fc.constantFrom(...pieces)), { minLength: 1, maxLength: 4 }),
        (edits) => {
          let text = base;
          for (const [at, del, ins] of edits) text = text.slice(0, at) + ins + text.slice(at + del);
          const r = parsePolicy(text, "m.policy");
          for (const d of r.diagnostics) {
            expect(d.code).not.toBe("P199");
            expect(Number.isInteger(d.span.start.offset) && d.span.start.offset >= 0 && d.span.start.offset <= text.length).toBe(true);
            expect(d.span.end.offset).toBeGreaterThanOrEqual(d.span.start.offset);
            expect(d.span.start.line).toBeGreaterThanOrEqual(1);
          }
          expect(r.ast === null).toBe(r.diagnostics.length > 0);
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
});


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
    const { checkPolicySet } = await import("../../grammar/checker.js");
    const { formatPolicy } = await import("../../grammar/format.js");
    const { planWith, host } = await import("../scenarios/helpers.js");
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
