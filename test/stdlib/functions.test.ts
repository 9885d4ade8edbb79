import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AGGREGATES, aggregateInfo } from "../../stdlib/aggregates.js";
import { arityText, signatureOf, STDLIB_FUNCTIONS, stdlibFunction } from "../../stdlib/functions.js";
import { check, rows } from "../grammar/checker-helpers.js";
import { renderStdlibDocs } from "../../grammar/stdlib-docs.js";

const call = (name: string, ...args: unknown[]) => stdlibFunction(name)!.impl(args);

describe("stdlib functions", () => {
  it("declares exactly the functions of the language, each documented with an example", () => {
    expect(STDLIB_FUNCTIONS.map((f) => f.name)).toEqual(["abs", "min", "max", "round", "floor", "ceil", "clamp", "sqrt"]);
    for (const f of STDLIB_FUNCTIONS) {
      expect(f.doc.length).toBeGreaterThan(10);
      expect(f.example.startsWith(`${f.name}(`)).toBe(true);
    }
    expect(signatureOf(stdlibFunction("clamp")!)).toBe("clamp(number, number, number) → number");
    expect(signatureOf(stdlibFunction("min")!)).toBe("min(number, number, …) → number");
    expect(arityText(stdlibFunction("abs")!)).toBe("1 argument");
  });

  it.each([
    ["abs", [-3.5], 3.5],
    ["min", [3, 1, 2], 1],
    ["max", [3, 1, 2], 3],
    ["round", [2.5], 3],
    ["round", [-2.5], -3],
    ["round", [2.4], 2],
    ["floor", [-1.5], -2],
    ["ceil", [1.2], 2],
    ["clamp", [15, 0, 10], 10],
    ["clamp", [-5, 0, 10], 0],
    ["clamp", [5, 0, 10], 5],
    ["clamp", [5, 10, 0], null],
    ["sqrt", [16], 4],
    ["sqrt", [-1], null],
  ] as const)("%s(%j) = %j", (name, args, expected) => {
    expect(call(name, ...args)).toBe(expected);
  });

  it("propagates none: any none argument gives none", () => {
    for (const f of STDLIB_FUNCTIONS) {
      const args = f.params.map(() => 1 as unknown);
      expect(f.impl(args)).not.toBeNull();
      args[args.length - 1] = null;
      expect([f.name, f.impl(args)]).toEqual([f.name, null]);
    }
  });

  it("the checker reads the table: types and arity", () => {
    expect(rows(check('policy p\nrule r when round(1, 2) > sqrt("x") then alert "x"').diagnostics)).toEqual([
      ["T205", 2, 13, "`round` takes 1 argument, got 2"],
      ["T206", 2, 32, "argument 1 of `sqrt` must be a number, got a string"],
    ]);
  });
});

describe("aggregates", () => {
  it("over no elements: sum is 0, the rest none", () => {
    expect(AGGREGATES.map((a) => [a.name, a.reduce([])])).toEqual([
      ["sum", 0], ["avg", null], ["min", null], ["max", null], ["median", null], ["stddev", null],
    ]);
  });

  it("compute what they say", () => {
    const v = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(aggregateInfo("sum").reduce(v)).toBe(40);
    expect(aggregateInfo("avg").reduce(v)).toBe(5);
    expect(aggregateInfo("min").reduce(v)).toBe(2);
    expect(aggregateInfo("max").reduce(v)).toBe(9);
    expect(aggregateInfo("median").reduce(v)).toBe(4.5);
    expect(aggregateInfo("median").reduce([3, 1, 2])).toBe(2);
    expect(aggregateInfo("stddev").reduce(v)).toBe(2);
    expect(aggregateInfo("stddev").reduce([7])).toBe(0);
  });
});


describe("docs/stdlib.md", () => {
  it("is what the declaration tables render (regenerate with node dist/grammar/stdlib-docs.js)", () => {
    expect(readFileSync("docs/stdlib.md", "utf8")).toBe(renderStdlibDocs());
  });
});
