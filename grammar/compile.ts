/**
 * The compiler: a checked policy set (no errors) becomes a
 * `CompiledPolicySet` of closures that `engine/plan/index.ts` runs. Every
 * expression is compiled once here; a round only calls closures. Params set
 * from outside (`--param`, the engine config) replace declared values here.
 */
import type { ConstraintDecl, GroupDecl, ParamDecl, RuleDecl } from "./ast.js";
import { CompileContext } from "./compile-context.js";
import { compileExpr } from "./compile-expr.js";
import { compileBinding } from "./compile-binding.js";
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
  if (!checked.ok) return { set: null, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const policies = checked.policies.map((p, i) => compilePolicy(p, i, options.params ?? new Map(), diagnostics));
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

function compilePolicy(
  policy: CheckedPolicy,
  index: number,
  overrides: ReadonlyMap<string, number | string | boolean>,
  diagnostics: Diagnostic[],
): CompiledPolicy {
  const ctx = new CompileContext(policy);
  const params: CompiledParam[] = [];
  const lets: CompiledLet[] = [];
  const values: ValueEntry[] = [];
  const groups: CompiledGroup[] = [];
  const constraints: CompiledConstraint[] = [];
  const rules: CompiledRule[] = [];
  const scripts: CompiledScript[] = [];
  policy.ast.decls.forEach((decl, order) => {
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
        const value = compileExpr(decl.value, ctx);
        ctx.letEvals[letIndex] = value;
        lets.push({ name: decl.name.name, slot, index: letIndex, value });
        values.push({ name: decl.name.name, slot });
        break;
      }
      case "GroupDecl":
        groups.push(compileGroup(decl, ctx));
        break;
      case "ScriptDecl":
        scripts.push({ source: decl.source, sourceStart: decl.sourceStart });
        break;
      case "ConstraintDecl":
        constraints.push(compileConstraint(decl, ctx));
        break;
      case "RuleDecl":
        rules.push(compileRule(decl, ctx, index, order));
        break;
    }
  });
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

function compileGroup(decl: GroupDecl, ctx: CompileContext): CompiledGroup {
  const subjectSlot = ctx.slot(decl);
  return { name: decl.name.name, when: decl.when === null ? null : compileExpr(decl.when, ctx), subjectSlot };
}

function compileConstraint(decl: ConstraintDecl, ctx: CompileContext): CompiledConstraint {
  return {
    name: `${ctx.policy.name}.${decl.name.name}`,
    vmSlot: ctx.subjectSlot(decl, "vm"),
    hostSlot: ctx.subjectSlot(decl, "host"),
    when: decl.when === null ? null : compileExpr(decl.when, ctx),
    require: compileExpr(decl.require, ctx),
  };
}

function compileRule(decl: RuleDecl, ctx: CompileContext, policy: number, order: number): CompiledRule {
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
  const clauses: CompiledClause[] = decl.clauses.map((clause) =>
    clause.kind === "WhenClause"
      ? { kind: "when", condition: compileExpr(clause.condition, ctx) }
      : { kind: "let", name: clause.name.name, slot: ctx.slot(clause), value: compileExpr(clause.value, ctx) },
  );
  const actions: CompiledAction[] = decl.actions.map((action) => {
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
  });
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
