import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parsePolicy } from "../../grammar/parse.js";
import { policyParser } from "../../grammar/parser.js";
import { dumpAst, dumpDecl } from "../../grammar/print-expr.js";
import type { Binary, Decl, LetDecl, Paren, RuleDecl, ScriptDecl, Span } from "../../grammar/ast.js";

/** Parses `policy p` followed by `src` and dumps the declarations, one per line. */
function dump(src: string): string {
  const r = parsePolicy(`policy p\n${src}`, "t.policy");
  if (r.ast === null) throw new Error(`syntax errors: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  return r.ast.decls.map(dumpDecl).join("\n");
}

function decls(src: string): readonly Decl[] {
  const r = parsePolicy(src, "t.policy");
  if (r.ast === null) throw new Error(JSON.stringify(r.diagnostics));
  return r.ast.decls;
}

/** A span as `line:col-line:col@start-end` for compact assertions. */
function at(s: Span): string {
  return `${s.start.line}:${s.start.column}-${s.end.line}:${s.end.column}@${s.start.offset}-${s.end.offset}`;
}

describe("parsePolicy: every construct", () => {
  const cases: [string, string][] = [
    // params and literals
    ["param a = 10", "(param a 10)"],
    ["param a = -2.5", "(param a -2.5)"],
    ["param a = 1e3", "(param a 1e3=1000)"],
    ["param a = 30s", "(param a 30s=30s)"],
    ["param a = 5m", "(param a 5m=300s)"],
    ["param a = 2h", "(param a 2h=7200s)"],
    ['param a = "x\\"y\\\\z\\n"', '(param a "x\\"y\\\\z\\n")'],
    ["param a = true", "(param a #true)"],
    ["param a = false", "(param a #false)"],
    // precedence, associativity and parentheses
    ["let a = 1 + 2 * 3 - 4 / 5 % 6", "(let a (- (+ 1 (* 2 3)) (% (/ 4 5) 6)))"],
    ["let a = (1 + 2) * 3", "(let a (* (paren (+ 1 2)) 3))"],
    ["let a = a ?? b ?? c", "(let a (?? (?? a b) c))"],
    ["let a = a or b and c", "(let a (or a (and b c)))"],
    ["let a = not a == b and not not c", "(let a (and (not (== a b)) (not (not c))))"],
    ["let a = -a.b * -2", "(let a (* (neg (. a b)) (neg 2)))"],
    ["let a = x != 1 or x <= 2 or x >= 3 or x < 4 or x > 5", "(let a (or (or (or (or (!= x 1) (<= x 2)) (>= x 3)) (< x 4)) (> x 5)))"],
    ["let a = host.state in [degraded, maintenance]", "(let a (in (. host state) (list degraded maintenance)))"],
    ["let a = []", "(let a (list))"],
    ["let a = none ?? true", "(let a (?? #none #true))"],
    ["let a = host.group == heavy", "(let a (== (. host group) heavy))"],
    ["let a = vm.labels.tier", "(let a (. (. vm labels) tier))"],
    ['let a = "s"', '(let a "s")'],
    ["let a = 10s + 1", "(let a (+ 10s=10s 1))"],
    // calls and aggregates
    ["let a = max(a, b)", "(let a (call max a b))"],
    ["let a = f()", "(let a (call f))"],
    ["let a = max(host.load for host)", "(let a (max (. host load) (host)))"],
    ["let a = avg(host.load for host where host.state == up)", "(let a (avg (. host load) (host where=(== (. host state) up))))"],
    ["let a = sum(vm.cpu for vm in h.vms) + median(x for light host) + stddev(1 for vm) + min(1 for host)",
      "(let a (+ (+ (+ (sum (. vm cpu) (vm in=(. h vms))) (median x (host group=light))) (stddev 1 (vm))) (min 1 (host))))"],
    // bindings and quantifiers
    ["let a = count(heavy host)", "(let a (count (host group=heavy)))"],
    ["let a = count(vm in host.vms as v where v.cpu > 1) > 0", "(let a (> (count (vm in=(. host vms) as=v where=(> (. v cpu) 1))) 0))"],
    ["let a = exists light host where a and b", "(let a (exists (host group=light where=(and a b))))"],
    ["let a = (exists light host where a) and b", "(let a (and (paren (exists (host group=light where=a))) b))"],
    ["let a = no vm in host.vms as other where other.labels.tier == \"db\"",
      '(let a (no (vm in=(. host vms) as=other where=(== (. (. other labels) tier) "db"))))'],
    ["let a = exists host where a ?? b", "(let a (?? (exists (host where=a)) b))"],
    ["let a = pick vm in src.vms where vm.cpu <= want by vm.cpu desc ?? other",
      "(let a (?? (pick (vm in=(. src vms) where=(<= (. vm cpu) want)) (by (. vm cpu) desc)) other))"],
    ["let a = pick host by host.load", "(let a (pick (host) (by (. host load))))"],
    ["let a = pick host by host.load asc", "(let a (pick (host) (by (. host load) asc)))"],
    ["let a = pick host by -host.load + 1 < 3", "(let a (< (pick (host) (by (+ (neg (. host load)) 1))) 3))"],
    // host and vm are names in expressions
    ["let a = host", "(let a host)"],
    ["let hosts = vm.host.vms", "(let hosts (. (. vm host) vms))"],
    // groups, scripts, constraints
    ["group heavy when host.load > upper", "(group heavy (> (. host load) upper))"],
    ["group rest otherwise", "(group rest otherwise)"],
    ['script """function f(x) { return "a" + x; }"""', '(script "function f(x) { return \\"a\\" + x; }")'],
    ["constraint gpu require host.labels.gpu == \"yes\"", '(constraint gpu (require (== (. (. host labels) gpu) "yes")))'],
    ["constraint apart when vm.labels.tier == \"db\" require no vm in host.vms as o where o.labels.tier == \"db\"",
      '(constraint apart (when (== (. (. vm labels) tier) "db")) (require (no (vm in=(. host vms) as=o where=(== (. (. o labels) tier) "db")))))'],
    // rules
    ["rule r then alert \"hi\"", '(rule r (then (alert "hi")))'],
    ["rule r priority 5 then evacuate h, recover h, migrate v to h",
      "(rule r (priority 5) (then (evacuate h) (recover h) (migrate v h)))"],
    ["rule r for each heavy host as src by src.load desc when a let x = 1 when b let y = x then migrate x to y",
      "(rule r (for (host group=heavy as=src) (by (. src load) desc)) (when a) (let x 1) (when b) (let y x) (then (migrate x y)))"],
    ["rule r for each vm in host.vms where vm.cpu > 1 then alert vm.name",
      "(rule r (for (vm in=(. host vms) where=(> (. vm cpu) 1))) (then (alert (. vm name))))"],
    ["rule r for each host by host.name then alert host.name", "(rule r (for (host) (by (. host name))) (then (alert (. host name))))"],
    // names that are also keywords are fine for labels (policy, rule, constraint) and members
    ["rule recover priority 110 then recover host", "(rule recover (priority 110) (then (recover host)))"],
    ["constraint require require true", "(constraint require (require #true))"],
  ];
  it.each(cases)("%s", (src, expected) => {
    expect(dump(src)).toBe(expected);
  });

  it("parses several declarations in order, with comments collected", () => {
    const r = parsePolicy("# head\npolicy p # the name\nparam a = 1\n# own line\nlet b = a # trailing\n", "f");
    expect(r.diagnostics).toEqual([]);
    expect(dumpAst(r.ast!)).toBe("(policy p)\n(param a 1)\n(let b a)");
    expect(r.ast!.comments.map((c) => [c.text, at(c.span)])).toEqual([
      ["# head", "1:1-1:7@0-6"],
      ["# the name", "2:10-2:20@16-26"],
      ["# own line", "4:1-4:11@39-49"],
      ["# trailing", "5:11-5:21@60-70"],
    ]);
  });

  it("parses the default policies without errors", () => {
    for (const f of ["policies/cslb.policy", "policies/evacuate.policy"]) {
      const r = parsePolicy(readFileSync(f, "utf8"), f);
      expect(r.diagnostics).toEqual([]);
      expect(r.ast).not.toBeNull();
    }
    const cslb = parsePolicy(readFileSync("policies/cslb.policy", "utf8"), "cslb.policy").ast!;
    expect(cslb.decls.map((d) => d.kind)).toEqual([
      "ParamDecl", "LetDecl", "LetDecl", "LetDecl", "LetDecl", "GroupDecl", "GroupDecl", "GroupDecl", "GroupDecl", "RuleDecl",
    ]);
    expect(cslb.comments).toHaveLength(11);
    const rule = cslb.decls[9] as RuleDecl;
    expect(rule.clauses.map((c) => c.kind)).toEqual(["WhenClause", "LetClause", "LetClause", "LetClause"]);
  });
});

describe("parsePolicy: spans", () => {
  it("gives exact, end-exclusive spans", () => {
    const [let_] = decls("policy p\nlet x = (a + 1) * b.c\n") as [LetDecl];
    expect(at(let_.span)).toBe("2:1-2:22@9-30");
    expect(at(let_.name.span)).toBe("2:5-2:6@13-14");
    const mul = let_.value as Binary;
    expect(at(mul.span)).toBe("2:9-2:22@17-30");
    expect(at(mul.opSpan)).toBe("2:17-2:18@25-26");
    const paren = mul.left as Paren;
    expect(at(paren.span)).toBe("2:9-2:16@17-24");
    expect(at(paren.expr.span)).toBe("2:10-2:15@18-23");
    expect(at(mul.right.span)).toBe("2:19-2:22@27-30");
  });

  it("covers a negative param, a binding and its element word, an order and a rule", () => {
    const [param, rule] = decls("policy p\nparam n = -3\nrule r\n  for each heavy host as h by h.load desc\n  then evacuate h\n") as [Decl, RuleDecl];
    expect(param.kind === "ParamDecl" && [param.value.value, param.value.kind === "NumberLit" && param.value.text, at(param.value.span)]).toEqual([
      -3, "-3", "2:11-2:13@19-21",
    ]);
    expect(at(rule.span)).toBe("3:1-5:18@22-88");
    const fe = rule.forEach!;
    expect(at(fe.span)).toBe("4:3-4:42@31-70");
    expect(at(fe.binding.span)).toBe("4:12-4:27@40-55");
    expect(at(fe.binding.elementSpan)).toBe("4:18-4:22@46-50");
    expect(at(fe.order!.span)).toBe("4:28-4:42@56-70");
    expect(at(rule.actions[0]!.span)).toBe("5:8-5:18@78-88");
  });

  it("locates a script's source and spans multi-line blocks", () => {
    const [script] = decls('policy p\nscript """\nfunction f() { return 1; }\n"""\n') as [ScriptDecl];
    expect(script.source).toBe("\nfunction f() { return 1; }\n");
    expect(script.sourceStart).toEqual({ offset: 19, line: 2, column: 11 });
    expect(at(script.span)).toBe("2:1-4:4@9-50");
  });

  it("spans the whole file from `policy` to the end of the last declaration", () => {
    const r = parsePolicy("# c\npolicy p\nparam a = 1   \n", "f");
    expect(at(r.ast!.span)).toBe("2:1-3:12@4-24");
    expect(r.ast!.span.file).toBe("f");
  });
});

describe("parsePolicy: line endings and encodings", () => {
  it("accepts CRLF line endings and a byte order mark", () => {
    const r = parsePolicy("\uFEFFpolicy p\r\nlet a = 1 # c\r\n\r\nlet b = \"x\"\r\n", "crlf");
    expect(r.diagnostics).toEqual([]);
    expect(dumpAst(r.ast!)).toBe('(policy p)\n(let a 1)\n(let b "x")');
    expect(r.ast!.comments[0]!.text).toBe("# c");
    const b = r.ast!.decls[1]!;
    expect(at(b.span)).toBe("4:1-4:12@28-39");
  });

  it("rejects a name with non-ASCII letters at the offending character", () => {
    const r = parsePolicy("policy p\nlet café = 1\n", "u");
    expect(r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column, d.message])).toEqual([
      ["P101", 2, 8, "unexpected character `é`"],
    ]);
  });
});

describe("parsePolicy: memory", () => {
  it("leaves no tokens in the shared parser, after a clean parse or a failed one", () => {
    for (const src of ["policy p\nlet x = 1 + 2\n", "policy p\nlet x = (1 +\n"]) {
      parsePolicy(src, "t.policy");
      expect(policyParser().input).toEqual([]);
      expect(policyParser().errors).toEqual([]);
      expect(policyParser().reservedNames).toEqual([]);
    }
  });
});
