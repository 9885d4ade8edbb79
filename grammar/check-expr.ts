/**
 * Types every expression (SPEC 2.3, 2.5, 2.10) and resolves every name and
 * call into the context's side tables. It never stops at an error: a wrong
 * expression gets the `error` type, which meets everything silently, so one
 * mistake is reported once and the rest of the file is still checked.
 * `expected` is what the call site needs; only script calls use it, to know
 * whether a string result must be looked up as a host or VM (SPEC 2.8).
 */
import { assertNever, type Binary, type Binding, type Call, type Expr, type Member, type NameRef, type Order } from "./ast.js";
import { bind, type PolicyContext, type Scope } from "./check-context.js";
import {
  BOOL,
  compatible,
  DYNAMIC,
  ERROR,
  GROUP,
  HOST,
  HOST_FIELDS,
  isBoolish,
  isLoose,
  isNumberish,
  listOf,
  NONE,
  NUMBER,
  STATE,
  STRING,
  unify,
  VM,
  VM_FIELDS,
} from "./check-types.js";
import * as msg from "./messages.js";
import { suggest } from "./suggest.js";
import { HOST_STATES, type HostStateName, type Type } from "./types.js";
import { arityText, STDLIB_FUNCTIONS, stdlibFunction } from "../stdlib/functions.js";

/** Types `expr` in `scope`, records the type, and returns it. */
export function checkExpr(cx: PolicyContext, expr: Expr, scope: Scope, expected?: Type): Type {
  const t = typeOf(cx, expr, scope, expected);
  cx.types.set(expr, t);
  return t;
}

/** A condition (`when`, `where`, `require`, a group's `when`): must be a bool. */
export function checkCondition(cx: PolicyContext, expr: Expr, scope: Scope, clause: string): void {
  const t = checkExpr(cx, expr, scope, BOOL);
  if (!isBoolish(t)) cx.report(msg.conditionType(clause, t, expr.span));
}

/** A `by` key: a number or a string. */
export function checkOrder(cx: PolicyContext, order: Order, scope: Scope): void {
  const t = checkExpr(cx, order.key, scope, NUMBER);
  if (!isNumberish(t) && t.kind !== "string") cx.report(msg.orderKeyType(t, order.key.span));
}

/**
 * Checks a binding's group, source and `where`, and returns the scope its
 * element is visible in (the `where`, and whatever the caller adds: an
 * aggregate's value, a pick's key, a rule's clauses).
 */
export function checkBinding(cx: PolicyContext, b: Binding, scope: Scope): Scope {
  const element = b.element === "host" ? HOST : VM;
  if (b.group !== null) {
    const g = cx.group(b.group.name);
    if (g === undefined) {
      cx.report(msg.unknownGroup(b.group.name, cx.policyName, b.group.span, cx.groupNames()));
      markSuggestionUsed(cx, b.group.name, cx.groupNames());
    } else {
      cx.used.add(g);
      cx.readsGroups(`\`${b.group.name} ${b.element}\` ranges over a group`, b.group.span, msg.groupInGroupCondition);
    }
  }
  if (b.source !== null) {
    const t = checkExpr(cx, b.source, scope, listOf(element));
    const fits = isLoose(t) || t.kind === "none" || (t.kind === "list" && (t.element.kind === "none" || isLoose(t.element) || t.element.kind === element.kind));
    if (!fits) cx.report(msg.bindingSourceType(b.element, t, b.source.span));
  }
  const inner = bind(scope, b.alias?.name ?? b.element, { kind: "element", binding: b }, element, b.alias?.span ?? b.elementSpan);
  if (b.where !== null) checkCondition(cx, b.where, inner, "where");
  return inner;
}

/**
 * A misspelt use of a declaration is still a use: the name it suggests is
 * marked used, so `meen` gives one error and no "unused let `mean`" too.
 */
function markSuggestionUsed(cx: PolicyContext, name: string, candidates: readonly string[]): void {
  const near = suggest(name, candidates);
  const named = near === null ? undefined : cx.names.get(near);
  if (named !== undefined) cx.used.add(named.decl);
}

function typeOf(cx: PolicyContext, expr: Expr, scope: Scope, expected: Type | undefined): Type {
  switch (expr.kind) {
    case "NumberLit":
    case "DurationLit":
      return NUMBER;
    case "StringLit":
      return STRING;
    case "BoolLit":
      return BOOL;
    case "NoneLit":
      return NONE;
    case "NameRef":
      return resolveName(cx, expr, scope);
    case "Paren":
      return checkExpr(cx, expr.expr, scope, expected);
    case "ListLit": {
      let element: Type = NONE;
      for (const item of expr.items) {
        const t = checkExpr(cx, item, scope, expected?.kind === "list" ? expected.element : undefined);
        if (compatible(element, t)) element = unify(element, t);
        else cx.report(msg.listItemsType(element, t, item.span));
      }
      return listOf(element);
    }
    case "Member":
      return member(cx, expr, scope);
    case "Unary": {
      const t = checkExpr(cx, expr.operand, scope, expr.op === "-" ? NUMBER : BOOL);
      if (expr.op === "-") {
        if (!isNumberish(t)) cx.report(msg.arithmeticType("-", t, null, expr.span));
        return NUMBER;
      }
      if (!isBoolish(t)) cx.report(msg.logicalType("not", t, expr.operand.span));
      return BOOL;
    }
    case "Binary":
      return binary(cx, expr, scope);
    case "Call":
      return call(cx, expr, scope, expected);
    case "Aggregate": {
      const inner = checkBinding(cx, expr.binding, scope);
      const t = checkExpr(cx, expr.value, inner, NUMBER);
      if (!isNumberish(t)) cx.report(msg.aggregateValueType(expr.fn, t, expr.value.span));
      return NUMBER;
    }
    case "Count":
      checkBinding(cx, expr.binding, scope);
      return NUMBER;
    case "Quantifier":
      checkBinding(cx, expr.binding, scope);
      return BOOL;
    case "Pick": {
      const inner = checkBinding(cx, expr.binding, scope);
      checkOrder(cx, expr.order, inner);
      return expr.binding.element === "host" ? HOST : VM;
    }
    default:
      return assertNever(expr);
  }
}

function resolveName(cx: PolicyContext, ref: NameRef, scope: Scope): Type {
  for (let local = scope; local !== null; local = local.parent) {
    if (local.name !== ref.name) continue;
    cx.symbols.set(ref, local.symbol);
    if (local.symbol.kind === "ruleLet") cx.used.add(local.symbol.decl);
    return local.type;
  }
  const named = cx.names.get(ref.name);
  if (named !== undefined) {
    cx.used.add(named.decl);
    switch (named.kind) {
      case "param": {
        cx.symbols.set(ref, { kind: "param", decl: named.decl });
        const v = named.decl.value;
        return v.kind === "StringLit" ? STRING : v.kind === "BoolLit" ? BOOL : NUMBER;
      }
      case "group":
        cx.symbols.set(ref, { kind: "group", decl: named.decl });
        return GROUP;
      case "let": {
        cx.symbols.set(ref, { kind: "let", decl: named.decl });
        const mode = cx.mode;
        if (mode.kind === "let") {
          const index = cx.letIndex.get(named.decl)!;
          if (named.decl === mode.decl) {
            cx.report(msg.letSelfReference(ref.name, ref.span));
            return ERROR;
          }
          if (index > mode.index) {
            cx.report(msg.letForwardReference(ref.name, ref.span, named.decl.name.span));
            return ERROR;
          }
        }
        if (cx.letsReadingGroups.has(named.decl)) {
          cx.readsGroups(`let \`${ref.name}\` reads groups`, ref.span, msg.groupInGroupCondition);
        }
        return cx.letTypes.get(named.decl) ?? ERROR;
      }
      default:
        return assertNever(named);
    }
  }
  if ((HOST_STATES as readonly string[]).includes(ref.name)) {
    cx.symbols.set(ref, { kind: "state", state: ref.name as HostStateName });
    return STATE;
  }
  const candidates: string[] = [];
  for (let local = scope; local !== null; local = local.parent) candidates.push(local.name);
  candidates.push(...cx.names.keys(), ...HOST_STATES);
  const hint =
    ref.name === "host" || ref.name === "vm"
      ? `\`${ref.name}\` names an element only inside a binding (\`for each ${ref.name}\`, \`exists ${ref.name}\`, …), a group condition (\`host\`) or a constraint`
      : undefined;
  cx.report(msg.unknownName(ref.name, ref.span, candidates, hint));
  markSuggestionUsed(cx, ref.name, candidates);
  return ERROR;
}

function member(cx: PolicyContext, expr: Member, scope: Scope): Type {
  const object = checkExpr(cx, expr.object, scope);
  const field = expr.property.name;
  switch (object.kind) {
    case "host": {
      const t = HOST_FIELDS.get(field);
      if (t === undefined) {
        cx.report(msg.unknownField(field, "host", expr.property.span, HOST_FIELDS.keys()));
        return ERROR;
      }
      if (field === "group") {
        cx.readsHostGroup = true;
        cx.readsGroups("`.group` reads the classification", expr.property.span, msg.groupInGroupCondition);
      }
      return t;
    }
    case "vm": {
      const t = VM_FIELDS.get(field);
      if (t === undefined) {
        cx.report(msg.unknownField(field, "vm", expr.property.span, VM_FIELDS.keys()));
        return ERROR;
      }
      return t;
    }
    case "labels":
      return STRING;
    case "none":
      return NONE;
    case "error":
      return ERROR;
    default:
      cx.report(msg.noFields(field, object, expr.property.span));
      return ERROR;
  }
}

function binary(cx: PolicyContext, expr: Binary, scope: Scope): Type {
  const op = expr.op;
  switch (op) {
    case "+":
    case "-":
    case "*":
    case "/":
    case "%": {
      const l = checkExpr(cx, expr.left, scope, op === "+" ? undefined : NUMBER);
      const r = checkExpr(cx, expr.right, scope, op === "+" ? undefined : NUMBER);
      if (isNumberish(l) && isNumberish(r)) return NUMBER;
      // `+` also joins strings (alert messages: "overloaded: " + src.name).
      const stringish = (t: Type): boolean => t.kind === "string" || t.kind === "none" || isLoose(t);
      if (op === "+" && stringish(l) && stringish(r)) return STRING;
      cx.report(msg.arithmeticType(op, l, r, expr.span));
      return ERROR;
    }
    case "and":
    case "or": {
      const l = checkExpr(cx, expr.left, scope, BOOL);
      const r = checkExpr(cx, expr.right, scope, BOOL);
      if (!isBoolish(l)) cx.report(msg.logicalType(op, l, expr.left.span));
      if (!isBoolish(r)) cx.report(msg.logicalType(op, r, expr.right.span));
      return BOOL;
    }
    case "==":
    case "!=": {
      const l = checkExpr(cx, expr.left, scope);
      const r = checkExpr(cx, expr.right, scope, isLoose(l) ? undefined : l);
      if (!compatible(l, r)) cx.report(msg.cannotCompare(l, r, expr.span, quotedSymbolHint(cx, l, expr.right) ?? quotedSymbolHint(cx, r, expr.left)));
      return BOOL;
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const l = checkExpr(cx, expr.left, scope, NUMBER);
      const r = checkExpr(cx, expr.right, scope, l.kind === "string" ? STRING : NUMBER);
      const ok =
        (isNumberish(l) && isNumberish(r)) ||
        ((l.kind === "string" || l.kind === "none" || isLoose(l)) && (r.kind === "string" || r.kind === "none" || isLoose(r)));
      if (!ok) cx.report(msg.orderingType(op, l, r, expr.span));
      return BOOL;
    }
    case "in": {
      const l = checkExpr(cx, expr.left, scope);
      const r = checkExpr(cx, expr.right, scope, isLoose(l) || l.kind === "none" ? undefined : listOf(l));
      const ok =
        isLoose(r) ||
        r.kind === "none" ||
        (r.kind === "list" && compatible(l, r.element)) ||
        // `"db" in vm.labels.roles`: a substring test, as the compiler evaluates it.
        (r.kind === "string" && (l.kind === "string" || l.kind === "none" || isLoose(l)));
      if (!ok) cx.report(msg.inType(l, r, expr.span));
      return BOOL;
    }
    case "??": {
      const l = checkExpr(cx, expr.left, scope);
      const r = checkExpr(cx, expr.right, scope, isLoose(l) ? undefined : l);
      if (!compatible(l, r)) {
        cx.report(msg.coalesceType(l, r, expr.span));
        return ERROR;
      }
      return unify(l, r);
    }
    default:
      return assertNever(op);
  }
}

/** `host.state == "up"`: states and groups are names, not strings; say so when that is the mistake. */
function quotedSymbolHint(cx: PolicyContext, other: Type, expr: Expr): string | undefined {
  if (expr.kind !== "StringLit") return undefined;
  const isState = other.kind === "state" && (HOST_STATES as readonly string[]).includes(expr.value);
  const isGroup = other.kind === "group" && cx.group(expr.value) !== undefined;
  if (!isState && !isGroup) return undefined;
  return `${isState ? "states" : "groups"} are names, not strings: write \`${expr.value}\` without quotes`;
}

/** Every name a call may use, for "did you mean". */
function functionNames(cx: PolicyContext): string[] {
  return [...STDLIB_FUNCTIONS.map((f) => f.name), "can_move", ...cx.scriptFunctions.keys()];
}

function call(cx: PolicyContext, expr: Call, scope: Scope, expected: Type | undefined): Type {
  const name = expr.callee.name;
  if (name === "can_move") {
    cx.calls.set(expr, { kind: "planner", name: "can_move" });
    if (cx.mode.kind === "constraint") cx.report(msg.canMoveInConstraint(expr.callee.span));
    if (expr.args.length !== 2) cx.report(msg.wrongArity(name, "2 arguments (a vm and a host)", expr.args.length, expr.span));
    const wants = [VM, HOST];
    expr.args.forEach((arg, i) => {
      const want = wants[i];
      const t = checkExpr(cx, arg, scope, want);
      if (want !== undefined && !isLoose(t) && t.kind !== "none" && t.kind !== want.kind) cx.report(msg.argumentType(name, i, want, t, arg.span));
    });
    return BOOL;
  }
  const script = cx.scriptFunctions.get(name);
  if (script !== undefined) {
    cx.calls.set(expr, { kind: "script", name, arity: script.arity, script: script.script });
    if (expr.args.length !== script.arity) {
      cx.report(msg.wrongArity(name, `${script.arity} argument${script.arity === 1 ? "" : "s"}`, expr.args.length, expr.span));
    }
    for (const arg of expr.args) checkExpr(cx, arg, scope);
    return expected !== undefined && !isLoose(expected) ? expected : DYNAMIC;
  }
  const std = stdlibFunction(name);
  if (std !== undefined) {
    cx.calls.set(expr, { kind: "stdlib", name });
    const n = expr.args.length;
    if (n < std.params.length || (!std.variadic && n > std.params.length)) cx.report(msg.wrongArity(name, arityText(std), n, expr.span));
    expr.args.forEach((arg, i) => {
      const t = checkExpr(cx, arg, scope, NUMBER);
      if (!isNumberish(t)) cx.report(msg.argumentType(name, i, NUMBER, t, arg.span));
    });
    return NUMBER;
  }
  const broken = cx.brokenScript;
  const hint = broken === null ? undefined : `a \`script\` block of this policy (${msg.where(broken)}) failed to load; its functions are unknown`;
  cx.report(msg.unknownFunction(name, expr.callee.span, functionNames(cx), hint));
  for (const arg of expr.args) checkExpr(cx, arg, scope);
  return ERROR;
}
