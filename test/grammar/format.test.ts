import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { formatPolicy } from "../../grammar/format.js";
import { parsePolicy } from "../../grammar/parse.js";
import { dumpAst } from "../../grammar/print-expr.js";

function fmt(src: string): string {
  const r = formatPolicy(src, "t.policy");
  if (r.output === null) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return r.output;
}

function tree(src: string): string {
  const r = parsePolicy(src, "t.policy");
  if (r.ast === null) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  return dumpAst(r.ast);
}

function policyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return policyFiles(path);
    return name.endsWith(".policy") ? [path] : [];
  });
}

const CSLB_FORMATTED = `# Modified Central Scheduler Load Balancing (Wilcox 2009, after Lan & Yu 1995).
policy cslb

param band = 10 # thresholds sit this many load points around the mean

# 1. Load evaluation: a host's load is the sum of its VMs' CPU (host.load).
let mean = avg(host.load for host where host.state == up)
let lower = mean - band
let upper = mean + band
let mid = (lower + upper) / 2 # the middle of the moderate band

group offline when host.state != up
group heavy when host.load > upper
group light when host.load < lower
group moderate otherwise

rule balance
  for each heavy host as src by src.load desc
  # 2. Profitability: a heavy host and a light host exist.
  when exists light host where not host.busy
  # 3. Work transfer vector: pair with the lightest free light host; move enough
  #    work to lift it to the middle of the moderate band.
  let dst = pick light host where not host.busy by host.load asc
  let want = (mid - dst.load) * dst.cpus # in vm.cpu units
  # 4. Task selection: the VM closest to \`want\` without exceeding it,
  #    else the smallest VM.
  let vm = pick vm in src.vms where can_move(vm, dst) and vm.cpu <= want by vm.cpu desc
        ?? pick vm in src.vms where can_move(vm, dst) by vm.cpu asc
  # 5. Task migration.
  then migrate vm to dst
`;

/** Inputs that exercise the layout rules: comments everywhere, blank lines, multi-line code. */
const CORPUS: string[] = [
  "policy p",
  "policy p # named\n",
  "# one\n\n# two\npolicy p\n\n\n\nparam a = 1\n\n\nparam b = -2\nparam c = 5m # five\nparam d = \"q\\\"\\n\"\nparam e = true\n",
  "policy p\nlet a = 1\nparam b = 2\nlet c = ( a+b )*-c\n# tail one\n\n# tail two\n",
  "policy p\nrule r then alert \"x\" # done\n",
  "policy p\nrule r priority 3 # top\n  # before for\n  for each heavy host as h by h.load desc # order\n  when a and # mid\n    b # end\n  let x = 1\n  then migrate x to h, evacuate h, recover h, alert \"a\" # acts\nrule s then alert \"y\"\n",
  "policy p\nscript \"\"\"\n  function f(a) { return a + 1; } # not a comment\n\n\"\"\" # after\nlet x = f(1)\n",
  "policy p\nconstraint c # cc\n  when vm.labels.tier == \"db\" # w\n  require no vm in host.vms as o where o.labels.tier == \"db\"\nconstraint d require true\n",
  "policy p\ngroup a when host.load > 1\n\ngroup b when not host.busy # x\ngroup c otherwise\n# end\n",
  "policy p\nlet x = exists light host where a and b or c\nlet y = (exists host where a) ?? b\nlet z = max(x for vm in h.vms where vm.cpu > 1) + count(vm) - avg(1 for host)\nlet w = [1, 2,3] \nlet v = not not a == b\nlet u = - -1\n",
  "policy p\nlet vm = pick vm in src.vms where can_move(vm, dst)\n  # inside\n  by vm.cpu desc\n      ?? pick vm by vm.cpu\n",
  "\uFEFFpolicy p\r\n\r\nlet a = 1 # c\r\n\r\n\r\nlet b = 2\r\n# end\r\n",
  "policy p\nrule r when x then migrate a to b, # first\n  evacuate c # second\n# own\nlet z = 1\n",
];

describe("formatPolicy", () => {
  it("lays out the default cslb policy canonically", () => {
    expect(fmt(readFileSync("policies/cslb.policy", "utf8"))).toBe(CSLB_FORMATTED);
  });

  it("lays out rules, constraints, scripts and comments", () => {
    expect(fmt(CORPUS[5]!)).toBe(
      "policy p\n\nrule r priority 3 # top\n  # before for\n  for each heavy host as h by h.load desc # order\n" +
        "  when a and b # mid\n  # end\n  let x = 1\n  then migrate x to h, evacuate h, recover h, alert \"a\" # acts\n\nrule s\n  then alert \"y\"\n",
    );
    expect(fmt(CORPUS[6]!)).toBe(
      'policy p\n\nscript """\n  function f(a) { return a + 1; } # not a comment\n\n""" # after\n\nlet x = f(1)\n',
    );
    expect(fmt(CORPUS[7]!)).toBe(
      'policy p\n\nconstraint c # cc\n  when vm.labels.tier == "db" # w\n  require no vm in host.vms as o where o.labels.tier == "db"\n\nconstraint d\n  require true\n',
    );
  });

  it("keeps one blank line where the source had some, and separates kinds", () => {
    expect(fmt(CORPUS[2]!)).toBe(
      '# one\n\n# two\npolicy p\n\nparam a = 1\n\nparam b = -2\nparam c = 5m # five\nparam d = "q\\"\\n"\nparam e = true\n',
    );
    expect(fmt(CORPUS[3]!)).toBe("policy p\n\nlet a = 1\n\nparam b = 2\n\nlet c = (a + b) * -c\n# tail one\n\n# tail two\n");
    expect(fmt(CORPUS[8]!)).toBe(
      "policy p\n\ngroup a when host.load > 1\n\ngroup b when not host.busy # x\ngroup c otherwise\n# end\n",
    );
    expect(fmt(CORPUS[0]!)).toBe("policy p\n");
  });

  it("moves comments from inside a multi-line expression after its line, in order", () => {
    expect(fmt(CORPUS[10]!)).toBe(
      "policy p\n\nlet vm = pick vm in src.vms where can_move(vm, dst) by vm.cpu desc ?? pick vm by vm.cpu\n# inside\n",
    );
  });

  it("writes LF line endings and drops a byte order mark", () => {
    expect(fmt(CORPUS[11]!)).toBe("policy p\n\nlet a = 1 # c\n\nlet b = 2\n# end\n");
  });

  it("keeps the order of several comments in one multi-line rule clause", () => {
    expect(fmt(CORPUS[12]!)).toBe("policy p\n\nrule r\n  when x\n  then migrate a to b, evacuate c # first\n\n# second\n# own\nlet z = 1\n");
  });

  it("returns null and the syntax errors for a broken file", () => {
    const r = formatPolicy("policy p\nlet = 1\n", "bad.policy");
    expect(r.output).toBeNull();
    expect(r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column, d.message])).toEqual([
      ["P108", 2, 5, "expected a name, found `=`"],
    ]);
  });

  const shipped = [...policyFiles("policies"), ...policyFiles("test/scenarios")];
  it.each([...shipped.map((f) => [f, readFileSync(f, "utf8")] as [string, string]), ...CORPUS.map((c, i) => [`corpus ${i}`, c] as [string, string])])(
    "is idempotent and keeps the AST: %s",
    (_name, src) => {
      const once = fmt(src);
      expect(fmt(once)).toBe(once);
      expect(tree(once)).toBe(tree(src));
      const comments = (s: string) => parsePolicy(s, "t").ast!.comments.map((c) => c.text);
      expect(comments(once)).toEqual(comments(src));
    },
  );

  it("leaves the shipped policies byte-identical to SPEC 2.1 (fmt is not applied to them)", () => {
    expect(readFileSync("policies/evacuate.policy", "utf8")).toContain("rule recover priority 110\n  for each host where");
    expect(readFileSync("policies/cslb.policy", "utf8")).toContain("let mean  = avg(");
  });
});

describe("formatPolicy on generated expressions", () => {
  const name = fc.constantFrom("a", "b", "host", "vm", "x_1");
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      name,
      fc.constantFrom("1", "0.5", "1e3", "30s", '"s\\"t"', "true", "none", "[]"),
      fc.tuple(tie("e"), fc.constantFrom("??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"), tie("e")).map(
        ([l, op, r]) => `${l} ${op} ${r}`,
      ),
      tie("e").map((e) => `(${e})`),
      tie("e").map((e) => `not (${e})`),
      tie("e").map((e) => `-(${e})`),
      fc.tuple(name, fc.array(tie("e"), { maxLength: 3 })).map(([f, args]) => `${f}(${args.join(", ")})`),
      fc.tuple(tie("e"), tie("e")).map(([v, w]) => `sum(${v} for light host where ${w})`),
      fc.tuple(tie("e")).map(([w]) => `(exists vm in h.vms as v where ${w})`),
      fc.tuple(tie("e"), fc.constantFrom("", " asc", " desc")).map(([k, d]) => `(pick host by (${k})${d})`),
      name.map((n) => `${n}.load.group`),
    ),
  })).e;

  it("prints back every parseable expression to the same tree, idempotently", () => {
    fc.assert(
      fc.property(expr, (e) => {
        const src = `policy p\nlet z = ${e}\n`;
        const parsed = parsePolicy(src, "g");
        // Generated text may chain comparisons or put `not` under an operator: those are syntax errors, skip them.
        fc.pre(parsed.ast !== null);
        const once = fmt(src);
        expect(tree(once)).toBe(dumpAst(parsed.ast!));
        expect(fmt(once)).toBe(once);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe("printing nested unary minus", () => {
  it("separates two minus signs", () => {
    const out = formatPolicy("policy p\nlet x = - -1\nlet y = -(-1)\nlet z = 2 - -x\nlet w = - - -x\n", "t.policy").output;
    expect(out).toBe("policy p\n\nlet x = - -1\nlet y = -(-1)\nlet z = 2 - -x\nlet w = - - -x\n");
    expect(formatPolicy(out!, "t.policy").output).toBe(out);
  });
});
