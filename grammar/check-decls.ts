/**
 * Declarations of one policy file: the policy's names (params, lets and
 * groups share one namespace; constraints and rules each have their own),
 * script blocks, then every expression in an order that lets a top-level
 * let see only params and earlier lets (SPEC 2.3–2.8). Rule lets become
 * visible after their clause and may not hide a name of the policy or the
 * rule's own element (T228): two meanings for one name in one rule is the
 * kind of mistake a check should catch.
 */
import type { Action, ConstraintDecl, GroupDecl, RuleDecl, ScriptDecl, Span } from "./ast.js";
import { bind, type PolicyContext, type Scope } from "./check-context.js";
import { checkBinding, checkCondition, checkExpr, checkOrder } from "./check-expr.js";
import { BOOL, HOST, isLoose, NUMBER, STRING, VM } from "./check-types.js";
import * as msg from "./messages.js";
import { printExpr } from "./print-expr.js";
import { HOST_STATES, type ScriptAnalyzer, type Type } from "./types.js";
import { stdlibFunction } from "../stdlib/functions.js";

const ELEMENT_WORDS = ["host", "vm"];

function isReservedName(name: string): boolean {
  return ELEMENT_WORDS.includes(name) || (HOST_STATES as readonly string[]).includes(name);
}

/** Collects params, lets, groups, constraint and rule names; reports duplicates and `otherwise` not last. */
export function collectNames(cx: PolicyContext): void {
  const constraints = new Map<string, Span>();
  const rules = new Map<string, Span>();
  let otherwise: GroupDecl | null = null;
  let lets = 0;
  for (const decl of cx.file.decls) {
    switch (decl.kind) {
      case "ParamDecl":
      case "LetDecl":
      case "GroupDecl": {
        const what = decl.kind === "ParamDecl" ? "param" : decl.kind === "LetDecl" ? "let" : "group";
        if (decl.kind === "ParamDecl") {
          const v = decl.value;
          cx.types.set(v, v.kind === "StringLit" ? STRING : v.kind === "BoolLit" ? BOOL : NUMBER);
        }
        if (decl.kind === "GroupDecl") {
          if (otherwise !== null) cx.report(msg.otherwiseNotLast(otherwise.name.name, decl.name.span, otherwise.name.span));
          else if (decl.when === null) otherwise = decl;
        }
        const name = decl.name.name;
        if (isReservedName(name)) {
          cx.report(msg.reservedName(what, name, decl.name.span));
          break;
        }
        const first = cx.names.get(name);
        if (first !== undefined) {
          cx.report(msg.duplicateDeclaration(what, name, decl.name.span, { what: first.kind, span: first.decl.name.span }));
          break;
        }
        if (decl.kind === "ParamDecl") cx.names.set(name, { kind: "param", decl });
        else if (decl.kind === "LetDecl") {
          cx.names.set(name, { kind: "let", decl });
          cx.letIndex.set(decl, lets++);
        } else {
          cx.names.set(name, { kind: "group", decl });
          cx.groups.push(decl);
        }
        break;
      }
      case "ConstraintDecl":
      case "RuleDecl": {
        const seen = decl.kind === "RuleDecl" ? rules : constraints;
        const what = decl.kind === "RuleDecl" ? "rule" : "constraint";
        const first = seen.get(decl.name.name);
        if (first !== undefined) cx.report(msg.duplicateDeclaration(what, decl.name.name, decl.name.span, { what, span: first }));
        else seen.set(decl.name.name, decl.name.span);
        break;
      }
      case "ScriptDecl":
        break;
    }
  }
}

/** The span of the `script` keyword of a block: where clashes of its functions are reported. */
function scriptKeywordSpan(decl: ScriptDecl): Span {
  const s = decl.span.start;
  return { file: decl.span.file, start: s, end: { offset: s.offset + 6, line: s.line, column: s.column + 6 } };
}

/**
 * Maps (line, column) of a script block (1-based) to the `.policy` file:
 * the block's first line starts at `sourceStart`, later lines at column 1.
 */
export function scriptPosition(decl: ScriptDecl, line: number, column: number): Span {
  const lines = decl.source.split("\n");
  const l = Math.max(1, Math.min(line, lines.length));
  let offset = decl.sourceStart.offset;
  for (let i = 0; i < l - 1; i++) offset += lines[i]!.length + 1;
  const lineText = lines[l - 1] ?? "";
  const c = Math.max(1, Math.min(column, lineText.length + 1));
  offset += c - 1;
  const startColumn = l === 1 ? decl.sourceStart.column + c - 1 : c;
  const startLine = decl.sourceStart.line + l - 1;
  const width = c <= lineText.length ? 1 : 0;
  return {
    file: decl.span.file,
    start: { offset, line: startLine, column: startColumn },
    end: { offset: offset + width, line: startLine, column: startColumn + width },
  };
}

/** Asks the analyzer about each `script` block; its functions become callable (SPEC 2.8). */
export function collectScripts(cx: PolicyContext, analyzer: ScriptAnalyzer | undefined): void {
  if (analyzer === undefined) return;
  let index = 0;
  const firstBlock = new Map<string, Span>();
  for (const decl of cx.file.decls) {
    if (decl.kind !== "ScriptDecl") continue;
    const script = index++;
    let result: ReturnType<ScriptAnalyzer["analyze"]>;
    try {
      result = analyzer.analyze(decl.source);
    } catch (e) {
      cx.report(msg.scriptSyntax(`cannot be analyzed: ${e instanceof Error ? e.message : String(e)}`, scriptKeywordSpan(decl)));
      cx.brokenScript ??= decl.span;
      continue;
    }
    if (!result.ok) {
      cx.report(msg.scriptSyntax(result.message, scriptPosition(decl, result.line, result.column)));
      cx.brokenScript ??= decl.span;
      continue;
    }
    for (const fn of result.functions) {
      if (fn.name === "can_move" || stdlibFunction(fn.name) !== undefined) {
        cx.report(msg.scriptNameClash(fn.name, scriptKeywordSpan(decl)));
        continue;
      }
      const first = firstBlock.get(fn.name);
      if (first !== undefined) {
        cx.report(msg.duplicateDeclaration("script function", fn.name, scriptKeywordSpan(decl), { what: "script function", span: first }));
        continue;
      }
      firstBlock.set(fn.name, scriptKeywordSpan(decl));
      cx.scriptFunctions.set(fn.name, { name: fn.name, arity: fn.arity, script });
    }
  }
}

/** Top-level lets, in order: each sees params, earlier lets, groups (as names), aggregates and functions. */
export function checkLets(cx: PolicyContext): void {
  for (const decl of cx.file.decls) {
    if (decl.kind !== "LetDecl") continue;
    const index = cx.letIndex.get(decl);
    if (index === undefined) {
      // A duplicate or reserved name: still type its value so its mistakes are reported.
      cx.mode = { kind: "rule" };
      checkExpr(cx, decl.value, null);
      continue;
    }
    cx.mode = { kind: "let", decl, index };
    cx.currentReadsGroups = false;
    cx.letTypes.set(decl, checkExpr(cx, decl.value, null));
    if (cx.currentReadsGroups) cx.letsReadingGroups.add(decl);
  }
  cx.mode = { kind: "rule" };
}

/** Group conditions: `host` is the host being classified; the classification itself is off limits. */
export function checkGroups(cx: PolicyContext): void {
  for (const decl of cx.file.decls) {
    if (decl.kind !== "GroupDecl" || decl.when === null) continue;
    cx.mode = { kind: "group", decl };
    const scope = bind(null, "host", { kind: "groupSubject", decl }, HOST, decl.name.span);
    checkCondition(cx, decl.when, scope, "group");
  }
  cx.mode = { kind: "rule" };
}

/** Constraints: `vm` is the VM being placed, `host` its destination (SPEC 2.7). */
export function checkConstraints(cx: PolicyContext): void {
  for (const decl of cx.file.decls) {
    if (decl.kind !== "ConstraintDecl") continue;
    cx.mode = { kind: "constraint", decl };
    const scope = constraintScope(decl);
    if (decl.when !== null) checkCondition(cx, decl.when, scope, "when");
    checkCondition(cx, decl.require, scope, "require");
  }
  cx.mode = { kind: "rule" };
}

function constraintScope(decl: ConstraintDecl): Scope {
  const vm = bind(null, "vm", { kind: "constraintSubject", decl, subject: "vm" }, VM, decl.name.span);
  return bind(vm, "host", { kind: "constraintSubject", decl, subject: "host" }, HOST, decl.name.span);
}

/** Rules: the `for each` element, clauses in order (a let visible after its clause), then actions. */
export function checkRules(cx: PolicyContext): void {
  cx.mode = { kind: "rule" };
  for (const decl of cx.file.decls) if (decl.kind === "RuleDecl") checkRule(cx, decl);
}

function checkRule(cx: PolicyContext, rule: RuleDecl): void {
  if (rule.priority !== null) cx.types.set(rule.priority, NUMBER);
  let scope: Scope = null;
  if (rule.forEach !== null) {
    scope = checkBinding(cx, rule.forEach.binding, null);
    if (rule.forEach.order !== null) checkOrder(cx, rule.forEach.order, scope);
  }
  for (const clause of rule.clauses) {
    if (clause.kind === "WhenClause") {
      checkCondition(cx, clause.condition, scope, "when");
      continue;
    }
    const name = clause.name.name;
    checkExpr(cx, clause.value, scope);
    const type = cx.types.get(clause.value)!;
    if ((HOST_STATES as readonly string[]).includes(name)) {
      cx.report(msg.reservedName("let", name, clause.name.span));
      cx.used.add(clause);
      continue;
    }
    const local = findLocal(scope, name);
    const policyName = cx.names.get(name);
    if (local !== null && local.symbol.kind === "ruleLet") {
      cx.report(msg.duplicateDeclaration("let", name, clause.name.span, { what: "let", span: local.span }));
    } else if (local !== null) {
      cx.report(msg.ruleLetShadows(name, "binding element", clause.name.span, local.span));
    } else if (policyName !== undefined) {
      cx.report(msg.ruleLetShadows(name, `policy's ${policyName.kind}`, clause.name.span, policyName.decl.name.span));
    } else {
      scope = bind(scope, name, { kind: "ruleLet", decl: clause, rule }, type, clause.name.span);
      continue;
    }
    // Not bound: later uses keep meaning what they meant, so one mistake is one report.
    cx.used.add(clause);
  }
  for (const action of rule.actions) checkAction(cx, action, scope);
}

function findLocal(scope: Scope, name: string): NonNullable<Scope> | null {
  for (let l = scope; l !== null; l = l.parent) if (l.name === name) return l;
  return null;
}

function expectArgument(cx: PolicyContext, action: string, expr: Parameters<typeof checkExpr>[1], scope: Scope, want: Type, got?: Type): void {
  const t = got ?? checkExpr(cx, expr, scope, want);
  if (isLoose(t) || t.kind === "none" || t.kind === want.kind) return;
  cx.report(msg.actionArgument(action, want, t, expr.span));
}

function checkAction(cx: PolicyContext, action: Action, scope: Scope): void {
  switch (action.kind) {
    case "MigrateAction": {
      const vm = checkExpr(cx, action.vm, scope, VM);
      const to = checkExpr(cx, action.to, scope, HOST);
      if (vm.kind === "host" && to.kind === "vm") {
        const span = { file: action.vm.span.file, start: action.vm.span.start, end: action.to.span.end };
        cx.report(msg.migrateSwapped(printExpr(action.to), printExpr(action.vm), span));
        return;
      }
      expectArgument(cx, "migrate", action.vm, scope, VM, vm);
      expectArgument(cx, "migrate … to", action.to, scope, HOST, to);
      return;
    }
    case "EvacuateAction":
      expectArgument(cx, "evacuate", action.host, scope, HOST);
      return;
    case "RecoverAction":
      expectArgument(cx, "recover", action.host, scope, HOST);
      return;
    case "AlertAction":
      expectArgument(cx, "alert", action.message, scope, STRING);
      return;
  }
}

