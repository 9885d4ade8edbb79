/**
 * Turns chevrotain's CST into the AST of ast.ts: declarations, rules,
 * bindings, actions and the primaries of expressions. Token positions and
 * values (spans, strings, durations) come from token-values.ts; operator
 * precedence over the parser's flat operand/operator lists from
 * precedence.ts. It also checks what the grammar accepts more loosely than
 * SPEC 2.2 (`foo(x for host)`, a fractional priority), so those errors get
 * precise messages.
 */
import type { CstElement, CstNode, IToken } from "chevrotain";
import {
  AGGREGATE_FUNCTIONS,
  type Action,
  type AggregateFn,
  type Binding,
  type BinaryOp,
  type Clause,
  type Comment,
  type Decl,
  type Expr,
  type ForEach,
  type Ident,
  type NumberLit,
  type Order,
  type ParamDecl,
  type PolicyFile,
  type Position,
  type Span,
} from "./ast.js";
import type { Diagnostic } from "./diagnostics.js";
import * as E from "./syntax-errors.js";
import { decodeString, durationSeconds, endOf, scriptTerminated, shifted, startOf, tokenSpan } from "./token-values.js";
import { Climber, type ClimbTarget } from "./precedence.js";
import { BadNumber, HostWord, KW, PREC, String3 } from "./tokens.js";

type Child = CstNode | IToken;

const NONE: Child[] = [];

function kids(node: CstNode, key: string): Child[] {
  return node.children[key] ?? NONE;
}
function toks(node: CstNode, key: string): IToken[] {
  return kids(node, key) as IToken[];
}
function tok(node: CstNode, key: string): IToken | undefined {
  return toks(node, key)[0];
}
function subs(node: CstNode, key: string): CstNode[] {
  return kids(node, key) as CstNode[];
}
function sub(node: CstNode, key: string): CstNode {
  const found = subs(node, key)[0];
  if (found === undefined) throw new Error(`CST node ${node.name} lacks ${key}`);
  return found;
}
function req(node: CstNode, key: string): IToken {
  const found = tok(node, key);
  if (found === undefined) throw new Error(`CST node ${node.name} lacks ${key}`);
  return found;
}

// ---------------------------------------------------------------- the converter

/**
 * Converts the CST of a whole file. Conversion errors (P109–P112) go to
 * `diagnostics`; the AST is only meaningful when there are none.
 */
export function cstToAst(cst: CstNode, comments: readonly Comment[], file: string, diagnostics: Diagnostic[]): PolicyFile {
  return new Converter(file, diagnostics).file(cst, comments);
}

/** The CST key of the keyword each declaration starts with. */
const DECL_KEYWORD: Record<string, string> = {
  paramDecl: KW.param.name,
  letDecl: KW.let.name,
  groupDecl: KW.group.name,
  scriptDecl: KW.script.name,
  constraintDecl: KW.constraint.name,
  ruleDecl: KW.rule.name,
};

/** CST keys of the primaries that are a subrule. */
const COMPOSITE_PRIMARIES = new Set(["call", "paren", "list", "count", "quantifier", "pick"]);

/** CST keys of the primaries that are one token, in no particular order. */
const TOKEN_PRIMARIES = ["Number", "Duration", "String", KW.true.name, KW.false.name, KW.none.name, "Identifier"];

class Converter implements ClimbTarget {
  constructor(
    private readonly fileName: string,
    private readonly diagnostics: Diagnostic[],
  ) {}

  private span(start: Position, end: Position): Span {
    return { file: this.fileName, start, end };
  }
  private tspan(t: IToken): Span {
    return tokenSpan(t, this.fileName);
  }
  private ident(t: IToken): Ident {
    return { kind: "Ident", name: t.image, span: this.tspan(t) };
  }
  /** The Ident of a `name` or `label` subrule (either holds one token). */
  private nameOf(node: CstNode, key: string): Ident {
    const n = sub(node, key);
    return this.ident(tok(n, "Identifier") ?? req(n, "Keyword"));
  }

  file(node: CstNode, comments: readonly Comment[]): PolicyFile {
    const decls = subs(node, "decl").map((d) => this.decl(d));
    const name = this.nameOf(node, "label");
    const last = decls.length > 0 ? decls[decls.length - 1]!.span.end : name.span.end;
    return { kind: "PolicyFile", name, decls, comments, span: this.span(startOf(req(node, KW.policy.name)), last) };
  }

  private decl(wrapper: CstNode): Decl {
    let node: CstNode | undefined;
    for (const key in wrapper.children) node = wrapper.children[key]![0] as CstNode;
    if (node === undefined) throw new Error("empty declaration");
    const kw = startOf(req(node, DECL_KEYWORD[node.name] ?? ""));
    switch (node.name) {
      case "paramDecl": {
        const value = this.literal(sub(node, "literal"));
        return { kind: "ParamDecl", name: this.nameOf(node, "name"), value, span: this.span(kw, value.span.end) };
      }
      case "letDecl": {
        const value = this.expr(sub(node, "expr"));
        return { kind: "LetDecl", name: this.nameOf(node, "name"), value, span: this.span(kw, value.span.end) };
      }
      case "groupDecl": {
        const otherwise = tok(node, KW.otherwise.name);
        const when = otherwise === undefined ? this.expr(sub(node, "expr")) : null;
        const end = when === null ? endOf(otherwise!) : when.span.end;
        return { kind: "GroupDecl", name: this.nameOf(node, "name"), when, span: this.span(kw, end) };
      }
      case "scriptDecl": {
        const t = req(node, String3.name);
        const source = scriptTerminated(t.image) ? t.image.slice(3, -3) : t.image.slice(3);
        return { kind: "ScriptDecl", source, sourceStart: shifted(t, 3), span: this.span(kw, endOf(t)) };
      }
      case "constraintDecl": {
        const when = subs(node, "when")[0];
        const require = this.expr(sub(node, "require"));
        return {
          kind: "ConstraintDecl",
          name: this.nameOf(node, "label"),
          when: when === undefined ? null : this.expr(when),
          require,
          span: this.span(kw, require.span.end),
        };
      }
      case "ruleDecl":
        return this.rule(node, kw);
      default:
        throw new Error(`unknown declaration ${node.name}`);
    }
  }

  private literal(node: CstNode): ParamDecl["value"] {
    const minus = tok(node, "Minus");
    const num = tok(node, "Number");
    if (num !== undefined) {
      const lit = this.number(num);
      if (minus === undefined) return lit;
      return { kind: "NumberLit", value: -lit.value, text: `-${lit.text}`, span: this.span(startOf(minus), endOf(num)) };
    }
    for (const key of TOKEN_PRIMARIES) {
      const t = tok(node, key);
      if (t === undefined) continue;
      const other = this.tokenExpr(key, t);
      if (other.kind === "DurationLit" || other.kind === "StringLit" || other.kind === "BoolLit") return other;
    }
    throw new Error("literal expected");
  }

  private number(t: IToken): NumberLit {
    const value = t.tokenType === BadNumber ? Number.NaN : Number(t.image);
    return { kind: "NumberLit", value, text: t.image, span: this.tspan(t) };
  }

  private rule(node: CstNode, kw: Position): Decl {
    const priorityTok = tok(node, "Number");
    const priority = priorityTok === undefined ? 0 : Number(priorityTok.image);
    if (priorityTok !== undefined && Number.isFinite(priority) && !Number.isInteger(priority) && priorityTok.tokenType !== BadNumber) {
      this.diagnostics.push(E.priorityNotInteger(priorityTok.image, this.tspan(priorityTok)));
    }
    const forEachNode = subs(node, "forEach")[0];
    const actions = subs(node, "action").map((a) => this.action(a));
    return {
      kind: "RuleDecl",
      name: this.nameOf(node, "label"),
      priority: priorityTok === undefined ? null : this.number(priorityTok),
      forEach: forEachNode === undefined ? null : this.forEach(forEachNode),
      clauses: subs(node, "clause").map((c) => this.clause(c)),
      actions,
      span: this.span(kw, actions[actions.length - 1]!.span.end),
    };
  }

  private forEach(node: CstNode): ForEach {
    const binding = this.binding(sub(node, "binding"));
    const orderNode = subs(node, "order")[0];
    const order = orderNode === undefined ? null : this.order(orderNode);
    const end = order === null ? binding.span.end : order.span.end;
    return { kind: "ForEach", binding, order, span: this.span(startOf(req(node, KW.for.name)), end) };
  }

  private order(node: CstNode): Order {
    const key = this.expr(sub(node, "key"), PREC.sum);
    const dir = tok(node, KW.asc.name) ?? tok(node, KW.desc.name);
    return {
      kind: "Order",
      key,
      direction: dir === undefined || dir.image === "asc" ? "asc" : "desc",
      explicit: dir !== undefined,
      span: this.span(startOf(req(node, KW.by.name)), dir === undefined ? key.span.end : endOf(dir)),
    };
  }

  private clause(node: CstNode): Clause {
    const value = this.expr(sub(node, "expr"));
    const when = tok(node, KW.when.name);
    if (when !== undefined) return { kind: "WhenClause", condition: value, span: this.span(startOf(when), value.span.end) };
    const start = startOf(req(node, KW.let.name));
    return { kind: "LetClause", name: this.nameOf(node, "name"), value, span: this.span(start, value.span.end) };
  }

  private action(node: CstNode): Action {
    const migrate = tok(node, KW.migrate.name);
    if (migrate !== undefined) {
      const to = this.expr(sub(node, "to"));
      return { kind: "MigrateAction", vm: this.expr(sub(node, "vm")), to, span: this.span(startOf(migrate), to.span.end) };
    }
    const arg = this.expr(sub(node, "expr"));
    const evacuate = tok(node, KW.evacuate.name);
    if (evacuate !== undefined) return { kind: "EvacuateAction", host: arg, span: this.span(startOf(evacuate), arg.span.end) };
    const recover = tok(node, KW.recover.name);
    if (recover !== undefined) return { kind: "RecoverAction", host: arg, span: this.span(startOf(recover), arg.span.end) };
    return { kind: "AlertAction", message: arg, span: this.span(startOf(req(node, KW.alert.name)), arg.span.end) };
  }

  private binding(node: CstNode): Binding {
    const group = tok(node, "group");
    const elementTok = tok(node, HostWord.name) ?? req(node, "VmWord");
    const sourceNode = subs(node, "source")[0];
    const source = sourceNode === undefined ? null : this.expr(sourceNode, PREC.sum);
    const alias = subs(node, "alias").length === 0 ? null : this.nameOf(node, "alias");
    const whereNode = subs(node, "where")[0];
    const where = whereNode === undefined ? null : this.expr(whereNode, PREC.or);
    const end = where?.span.end ?? alias?.span.end ?? source?.span.end ?? endOf(elementTok);
    return {
      kind: "Binding",
      group: group === undefined ? null : this.ident(group),
      element: elementTok.tokenType === HostWord ? "host" : "vm",
      elementSpan: this.tspan(elementTok),
      source,
      alias,
      where,
      span: this.span(startOf(group ?? elementTok), end),
    };
  }

  // ---------------------------------------------------------------- expressions

  /**
   * An `expr` CST node (a flat operand/operator list) as a tree, by
   * precedence climbing over SPEC 2.2's levels. `minPrec` is the level the
   * parser stopped at, so the tree starts there too.
   */
  expr(node: CstNode, minPrec: number = PREC.coalesce): Expr {
    const climb = new Climber(subs(node, "operand"), toks(node, "BinOp"), this);
    return climb.level(minPrec);
  }

  /** An operand without its prefixes: the primary and its `.member`s. */
  core(node: CstNode): Expr {
    let object = this.primary(node);
    const members = toks(node, "member");
    for (const m of members) {
      const property = this.ident(m);
      object = { kind: "Member", object, property, span: this.span(object.span.start, property.span.end) };
    }
    return object;
  }

  unaryNode(op: "-" | "not", t: IToken, operand: Expr): Expr {
    return { kind: "Unary", op, operand, span: this.span(startOf(t), operand.span.end) };
  }

  binaryNode(op: IToken, left: Expr, right: Expr): Expr {
    return {
      kind: "Binary",
      op: op.image as BinaryOp,
      left,
      right,
      opSpan: this.tspan(op),
      span: this.span(left.span.start, right.span.end),
    };
  }

  report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  tokenSpanOf(t: IToken): Span {
    return this.tspan(t);
  }

  private primary(node: CstNode): Expr {
    const c = node.children;
    const id = c["Identifier"];
    if (id !== undefined) return this.tokenExpr("Identifier", id[0] as IToken);
    // The first composite child in the node's own order, found without Object.entries' arrays (this runs for every operand).
    let key = "";
    let child: CstElement | undefined;
    for (const k in c) {
      if (COMPOSITE_PRIMARIES.has(k)) {
        key = k;
        child = c[k]![0];
        break;
      }
    }
    if (child === undefined) {
      for (const k of TOKEN_PRIMARIES) if (c[k] !== undefined) return this.tokenExpr(k, c[k][0] as IToken);
      throw new Error("empty operand");
    }
    const n = child as CstNode;
    const from = (t: string): Position => startOf(req(n, t));
    const to = (t: string): Position => endOf(req(n, t));
    switch (key) {
      case "call":
        return this.call(n);
      case "paren":
        return { kind: "Paren", expr: this.expr(sub(n, "expr")), span: this.span(from("LParen"), to("RParen")) };
      case "list":
        return { kind: "ListLit", items: subs(n, "expr").map((e) => this.expr(e)), span: this.span(from("LBracket"), to("RBracket")) };
      case "count":
        return { kind: "Count", binding: this.binding(sub(n, "binding")), span: this.span(from(KW.count.name), to("RParen")) };
      case "quantifier": {
        const kw = tok(n, KW.exists.name) ?? req(n, KW.no.name);
        const binding = this.binding(sub(n, "binding"));
        const quantifier = kw.image === "exists" ? "exists" : "no";
        return { kind: "Quantifier", quantifier, binding, span: this.span(startOf(kw), binding.span.end) };
      }
      default: {
        const order = this.order(sub(n, "order"));
        return { kind: "Pick", binding: this.binding(sub(n, "binding")), order, span: this.span(from(KW.pick.name), order.span.end) };
      }
    }
  }

  /** A single-token expression, by its CST key. */
  private tokenExpr(key: string, t: IToken): Expr {
    const span = this.tspan(t);
    switch (key) {
      case "Number":
        return this.number(t);
      case "Duration":
        return { kind: "DurationLit", value: durationSeconds(t.image), text: t.image, span };
      case "String":
        return { kind: "StringLit", value: decodeString(t, this.fileName).value, span };
      case KW.true.name:
        return { kind: "BoolLit", value: true, span };
      case KW.false.name:
        return { kind: "BoolLit", value: false, span };
      case KW.none.name:
        return { kind: "NoneLit", span };
      case "Identifier":
        return { kind: "NameRef", name: t.image, span };
      default:
        throw new Error(`unexpected token ${key}`);
    }
  }

  private call(node: CstNode): Expr {
    const callee = this.ident(req(node, "Identifier"));
    const args = subs(node, "expr").map((e) => this.expr(e));
    const span = this.span(callee.span.start, endOf(req(node, "RParen")));
    const bindingNode = subs(node, "binding")[0];
    if (bindingNode === undefined) return { kind: "Call", callee, args, span };
    if (!(AGGREGATE_FUNCTIONS as readonly string[]).includes(callee.name)) {
      this.diagnostics.push(E.notAnAggregate(callee.name, callee.span));
    }
    return {
      kind: "Aggregate",
      fn: callee.name as AggregateFn,
      fnSpan: callee.span,
      value: args[0]!,
      binding: this.binding(bindingNode),
      span,
    };
  }
}
