/**
 * The compiler: a checked policy set (no errors) becomes a
 * `CompiledPolicySet` of closures that `engine/plan/index.ts` runs. Every
 * expression is compiled once here; a round only calls closures. Params set
 * from outside (`--param`, the engine config) replace declared values here.
 */
import type { Action, ConstraintDecl, Expr, GroupDecl, ParamDecl, RuleDecl, Span } from "./ast.js";
import { CompileContext } from "./compile-context.js";
import { probeCondition, probeRule, probeValue, type CoverageItem, type CoverageRecorder } from "./coverage.js";
import { compileExpr } from "./compile-expr.js";
import { compileBinding } from "./compile-binding.js";
import { printExpr } from "./print-expr.js";
import type {
  CompiledAction,
  CompiledClause,
  CompiledConstraint,
  CompiledGroup,
  CompiledLet,
  CompiledParam,
  CompiledPolicy,
  CompiledPolicySet,
  CompiledRule,
  CompiledScript,
  Evaluator,
  ParamType,
  ValueEntry,
} from "./compile-types.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import type { CheckedPolicy, CheckResult } from "./types.js";

export type { CompiledPolicySet, CompiledPolicy } from "./compile-types.js";

export interface CompileOptions {
  /**
   * Param values that replace the declared ones, keyed `policy.name`, already
   * of the param's type (see `engine/policy/params.ts`, which parses `--param`).
   */
  readonly params?: ReadonlyMap<string, number | string | boolean>;
  /**
   * Counts what evaluation does (`vmpolicy test --coverage`): every rule,
   * `when`, let and group is compiled inside a probe of `coverage.ts`.
   * Absent, no probe is compiled in.
   */
  readonly coverage?: CoverageRecorder;
}

/**
 * Compiles a checked set. Returns `set: null` when the check found errors
 * (those diagnostics are the checker's to report) or when an override does
 * not fit its param (an E401 diagnostic at the param's declaration).
 */
export function compilePolicySet(
  checked: CheckResult,
  options: CompileOptions = {},
): { set: CompiledPolicySet | null; diagnostics: Diagnostic[] } {
  const steps = compilePolicySetSteps(checked, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `compilePolicySet` one declaration at a time: the generator yields after
 * each, so a caller that must keep an event loop turning (the engine's hot
 * reload of a large set) can give it a turn between steps. Same result.
 */
export function* compilePolicySetSteps(
  checked: CheckResult,
  options: CompileOptions = {},
): Generator<void, { set: CompiledPolicySet | null; diagnostics: Diagnostic[] }> {
  if (!checked.ok) return { set: null, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const policies: CompiledPolicy[] = [];
  for (const [i, p] of checked.policies.entries()) policies.push(yield* compilePolicy(p, i, options.params ?? new Map(), diagnostics, options.coverage));
  if (diagnostics.length > 0) return { set: null, diagnostics };
  const set: CompiledPolicySet = {
    policies,
    hash: "",
    dispose() {
      for (const p of policies) {
        p.runner?.dispose();
        p.runner = null;
      }
    },
  };
  return { set, diagnostics };
}

/** The type of a param, from its declared literal. */
export function paramType(decl: ParamDecl): ParamType {
  switch (decl.value.kind) {
    case "NumberLit":
      return "number";
    case "DurationLit":
      return "duration";
    case "StringLit":
      return "string";
    case "BoolLit":
      return "bool";
  }
}

function* compilePolicy(
  policy: CheckedPolicy,
  index: number,
  overrides: ReadonlyMap<string, number | string | boolean>,
  diagnostics: Diagnostic[],
  coverage: CoverageRecorder | undefined,
): Generator<void, CompiledPolicy> {
  const ctx = new CompileContext(policy);
  const params: CompiledParam[] = [];
  const lets: CompiledLet[] = [];
  const values: ValueEntry[] = [];
  const groups: CompiledGroup[] = [];
  const constraints: CompiledConstraint[] = [];
  const rules: CompiledRule[] = [];
  const scripts: CompiledScript[] = [];
  for (const [order, decl] of policy.ast.decls.entries()) {
    if (order > 0) yield;
    switch (decl.kind) {
      case "ParamDecl": {
        const type = paramType(decl);
        const slot = ctx.slot(decl);
        const key = `${policy.name}.${decl.name.name}`;
        let value: number | string | boolean = decl.value.value;
        const override = overrides.get(key);
        if (override !== undefined) {
          const want = type === "duration" ? "number" : type === "bool" ? "boolean" : type;
          if (typeof override !== want) {
            diagnostics.push(makeDiagnostic("E401", "error", `param ${key} is a ${type}; the value given is a ${typeof override}`, decl.span));
          } else value = override;
        }
        params.push({ name: decl.name.name, type, slot, value });
        values.push({ name: decl.name.name, slot });
        break;
      }
      case "LetDecl": {
        const slot = ctx.slot(decl);
        const letIndex = ctx.letIndex.get(decl)!;
        const compiled = compileExpr(decl.value, ctx);
        const value = coverage ? probeValue(coverage.item("let", `let ${decl.name.name}`, decl.span), compiled) : compiled;
        ctx.letEvals[letIndex] = value;
        lets.push({ name: decl.name.name, slot, index: letIndex, value });
        values.push({ name: decl.name.name, slot });
        break;
      }
      case "GroupDecl":
        groups.push(compileGroup(decl, ctx, coverage));
        break;
      case "ScriptDecl":
        scripts.push({ source: decl.source, sourceStart: decl.sourceStart });
        break;
      case "ConstraintDecl":
        constraints.push(compileConstraint(decl, ctx, coverage));
        break;
      case "RuleDecl":
        rules.push(compileRule(decl, ctx, index, order, coverage));
        break;
    }
  }
  return {
    name: policy.name,
    file: policy.file,
    slotCount: ctx.slotCount,
    siteCount: ctx.siteCount,
    params,
    lets,
    values,
    groups,
    constraints,
    rules,
    scripts,
    runner: null,
  };
}

function compileGroup(decl: GroupDecl, ctx: CompileContext, coverage: CoverageRecorder | undefined): CompiledGroup {
  const subjectSlot = ctx.slot(decl);
  const when = decl.when === null ? null : compileExpr(decl.when, ctx);
  if (coverage === undefined) return { name: decl.name.name, when, subjectSlot };
  // `otherwise` is probed as a condition that always holds: the planner treats it exactly like no condition.
  const item = coverage.item("group", `group ${decl.name.name}`, decl.span);
  return { name: decl.name.name, when: probeCondition(item, when ?? (() => true)), subjectSlot };
}

/** A `when` condition, probed when counting coverage. */
function whenClause(expr: Expr, span: Span, ctx: CompileContext, coverage: CoverageRecorder | undefined, suffix = ""): Evaluator {
  const compiled = compileExpr(expr, ctx);
  if (coverage === undefined) return compiled;
  const text = printExpr(expr);
  const label = `when ${text.length > 60 ? text.slice(0, 57) + "..." : text}${suffix}`;
  return probeCondition(coverage.item("when", label, span), compiled);
}

function compileConstraint(decl: ConstraintDecl, ctx: CompileContext, coverage: CoverageRecorder | undefined): CompiledConstraint {
  return {
    name: `${ctx.policy.name}.${decl.name.name}`,
    vmSlot: ctx.subjectSlot(decl, "vm"),
    hostSlot: ctx.subjectSlot(decl, "host"),
    when: decl.when === null ? null : whenClause(decl.when, decl.when.span, ctx, coverage, ` (constraint ${decl.name.name})`),
    require: compileExpr(decl.require, ctx),
  };
}

function compileRule(decl: RuleDecl, ctx: CompileContext, policy: number, order: number, coverage: CoverageRecorder | undefined): CompiledRule {
  const name = `${ctx.policy.name}.${decl.name.name}`;
  let forEach: CompiledRule["forEach"] = null;
  if (decl.forEach !== null) {
    const binding = decl.forEach.binding;
    const { members, slot, where } = compileBinding(binding, ctx);
    const ord = decl.forEach.order;
    forEach = {
      elementName: binding.alias?.name ?? binding.element,
      slot,
      members,
      where,
      key: ord === null ? null : compileExpr(ord.key, ctx),
      desc: ord?.direction === "desc",
    };
  }
  const clauses: CompiledClause[] = decl.clauses.map((clause) => {
    if (clause.kind === "WhenClause") return { kind: "when", condition: whenClause(clause.condition, clause.span, ctx, coverage) };
    const value = compileExpr(clause.value, ctx);
    return {
      kind: "let",
      name: clause.name.name,
      slot: ctx.slot(clause),
      value: coverage ? probeValue(coverage.item("let", `let ${clause.name.name}`, clause.span), value) : value,
    };
  });
  const actions: CompiledAction[] = decl.actions.map((action) => compileAction(action, ctx));
  if (coverage !== undefined) probeRuleBody(coverage.item("rule", `rule ${decl.name.name}`, decl.span, name), clauses, actions);
  return {
    name,
    priority: decl.priority?.value ?? 0,
    policy,
    order,
    forEach,
    clauses,
    actions,
  };
}

/**
 * A rule's body began when its first clause (or, with none, its first
 * action) is evaluated, and reached its actions when the first action is:
 * the planner evaluates clauses in order and stops at a false `when`.
 */
function probeRuleBody(item: CoverageItem, clauses: CompiledClause[], actions: CompiledAction[]): void {
  const first = actions[0]!;
  const reach = (ev: Evaluator): Evaluator => probeRule(item, ev, clauses.length === 0, true);
  actions[0] =
    first.kind === "migrate"
      ? { ...first, vm: reach(first.vm) }
      : first.kind === "alert"
        ? { ...first, message: reach(first.message) }
        : { ...first, host: reach(first.host) };
  const head = clauses[0];
  if (head === undefined) return;
  clauses[0] = head.kind === "when" ? { ...head, condition: probeRule(item, head.condition, true, false) } : { ...head, value: probeRule(item, head.value, true, false) };
}

function compileAction(action: Action, ctx: CompileContext): CompiledAction {
  switch (action.kind) {
    case "MigrateAction":
      return { kind: "migrate", vm: compileExpr(action.vm, ctx), to: compileExpr(action.to, ctx) };
    case "EvacuateAction":
      return { kind: "evacuate", host: compileExpr(action.host, ctx) };
    case "RecoverAction":
      return { kind: "recover", host: compileExpr(action.host, ctx) };
    case "AlertAction":
      return { kind: "alert", message: compileExpr(action.message, ctx) };
  }
}
