/**
 * The W3xx warnings of one checked policy: unused params and lets, groups
 * nothing can observe, rules that can never plan anything, and constraints
 * that never apply. They run after every expression is resolved, reading
 * what the context recorded as used. docs/diagnostics.md states the exact
 * rules, in particular when a group counts as used.
 */
import { isNoneLiteral, type Expr, type RuleDecl } from "./ast.js";
import type { PolicyContext } from "./check-context.js";
import * as msg from "./messages.js";

/**
 * The value of a condition that is the same in every round: true, false,
 * null for none, or undefined when it depends on the cluster. Deliberately
 * small: literals (`none` included), `not`, `and`/`or` (three-valued, as the
 * planner evaluates them), and comparisons of two literals; anything that
 * reads the cluster is not constant.
 */
export function constantBool(expr: Expr): boolean | null | undefined {
  switch (expr.kind) {
    case "BoolLit":
      return expr.value;
    case "NoneLit":
      return null;
    case "Paren":
      return constantBool(expr.expr);
    case "Unary": {
      if (expr.op !== "not") return undefined;
      const v = constantBool(expr.operand);
      return v === undefined || v === null ? v : !v;
    }
    case "Binary": {
      if (expr.op === "and" || expr.op === "or") {
        const l = constantBool(expr.left);
        const r = constantBool(expr.right);
        if (expr.op === "and") {
          if (l === false || r === false) return false;
          if (l === undefined || r === undefined) return undefined;
          return l === null || r === null ? null : true;
        }
        if (l === true || r === true) return true;
        if (l === undefined || r === undefined) return undefined;
        return l === null || r === null ? null : false;
      }
      const leftNone = isNoneLiteral(expr.left);
      const rightNone = isNoneLiteral(expr.right);
      if (leftNone || rightNone) {
        // A comparison with none is false except `== none` / `!= none` (SPEC 2.5).
        if (expr.op === "==") return leftNone && rightNone ? true : literal(leftNone ? expr.right : expr.left) !== undefined ? false : undefined;
        if (expr.op === "!=") return leftNone && rightNone ? false : literal(leftNone ? expr.right : expr.left) !== undefined ? true : undefined;
        return expr.op === "<" || expr.op === "<=" || expr.op === ">" || expr.op === ">=" ? false : undefined;
      }
      const l = literal(expr.left);
      const r = literal(expr.right);
      if (l === undefined || r === undefined || typeof l !== typeof r) return undefined;
      switch (expr.op) {
        case "==":
          return l === r;
        case "!=":
          return l !== r;
        case "<":
          return l < r;
        case "<=":
          return l <= r;
        case ">":
          return l > r;
        case ">=":
          return l >= r;
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** A condition that holds in no round: always false, or always none (a `when` or `where` that is not true skips). */
function neverHolds(expr: Expr): boolean {
  const v = constantBool(expr);
  return v === false || v === null;
}

function literal(expr: Expr): number | string | undefined {
  if (expr.kind === "Paren") return literal(expr.expr);
  if (expr.kind === "NumberLit" || expr.kind === "DurationLit" || expr.kind === "StringLit") return expr.value;
  return undefined;
}

/** Why `rule` can never plan anything, or null if it might. */
function neverPlans(cx: PolicyContext, rule: RuleDecl): { why: string; at: Expr | null } | null {
  const forEach = rule.forEach;
  if (forEach !== null) {
    const b = forEach.binding;
    if (b.where !== null && neverHolds(b.where)) return { why: `its \`for each … where\` is always ${constantBool(b.where) === null ? "none" : "false"}`, at: b.where };
    if (b.source !== null && b.source.kind === "ListLit" && b.source.items.length === 0) return { why: "its `for each` ranges over an empty list", at: b.source };
    if (b.group !== null) {
      const g = cx.group(b.group.name);
      if (g?.when != null && neverHolds(g.when)) return { why: `group \`${g.name.name}\` never matches a host`, at: null };
    }
  }
  for (const clause of rule.clauses) {
    if (clause.kind === "WhenClause" && neverHolds(clause.condition)) {
      return { why: `a \`when\` is always ${constantBool(clause.condition) === null ? "none" : "false"}`, at: clause.condition };
    }
  }
  const allNone = rule.actions.every((a) => {
    switch (a.kind) {
      case "MigrateAction":
        return isNoneLiteral(a.vm) || isNoneLiteral(a.to);
      case "EvacuateAction":
      case "RecoverAction":
        return isNoneLiteral(a.host);
      case "AlertAction":
        return isNoneLiteral(a.message);
    }
  });
  if (allNone && rule.actions.length > 0) return { why: "every action names `none`", at: null };
  return null;
}

/** Adds the warnings of the policy in `cx` to its diagnostics. */
export function checkWarnings(cx: PolicyContext): void {
  for (const [, named] of cx.names) {
    if (cx.used.has(named.decl)) continue;
    if (named.kind === "param") cx.report(msg.unusedParam(named.decl.name.name, named.decl.name.span));
    if (named.kind === "let") cx.report(msg.unusedLet(named.decl.name.name, named.decl.name.span));
  }
  // A `when` group is observable when something names it, when `host.group`
  // is read, or when a later group that is observable follows it: first
  // match wins, so it decides which hosts that later group gets (`offline`
  // keeps down hosts out of `heavy` in cslb.policy). An `otherwise` group
  // changes no other group and names the rest in the plan's `groups`: it
  // never warns.
  let laterUsed = cx.readsHostGroup;
  for (let i = cx.groups.length - 1; i >= 0; i--) {
    const g = cx.groups[i]!;
    const used = laterUsed || cx.used.has(g);
    if (!used && g.when !== null) cx.report(msg.unusedGroup(g.name.name, g.name.span));
    laterUsed = used;
  }
  for (const decl of cx.file.decls) {
    if (decl.kind === "RuleDecl") {
      for (const clause of decl.clauses) {
        if (clause.kind === "LetClause" && !cx.used.has(clause)) cx.report(msg.unusedLet(clause.name.name, clause.name.span, decl.name.name));
      }
      const never = neverPlans(cx, decl);
      if (never !== null) cx.report(msg.ruleNeverPlans(decl.name.name, never.why, never.at?.span ?? decl.name.span));
    } else if (decl.kind === "ConstraintDecl" && decl.when !== null && neverHolds(decl.when)) {
      cx.report(msg.constraintNeverApplies(decl.name.name, decl.when.span));
    }
  }
}
