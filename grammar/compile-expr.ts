/**
 * Turns one checked expression into a closure, once, so a round evaluates
 * without interpretation overhead (cel-go's "planner" step). Names come from
 * the checker's `symbols` table, functions from its `calls` table; nothing is
 * resolved again here. None-propagation follows SPEC 2.5; `and`/`or`/`not`
 * use three-valued logic (none is "unknown"), so a `when`/`where` that meets
 * none does not hold.
 */
import { assertNever, isNoneLiteral, type Binary, type Call, type Expr, type Member, type NameRef } from "./ast.js";
import type { CompileContext } from "./compile-context.js";
import { compileAggregate, compileCount, compilePick, compileQuantifier } from "./compile-binding.js";
import { resolveStdlib } from "./compile-stdlib.js";
import { EvalError, ensureGroups, type EvalEnv, type Evaluator, type Labels, type Value } from "./compile-types.js";
import { compileScriptCall } from "./compile-script.js";
import { finite, labelOf, valueEquals } from "./compile-values.js";
import type { HostView, VmView } from "./view.js";

/** Compiles `expr` of the context's policy into a closure. */
export function compileExpr(expr: Expr, ctx: CompileContext): Evaluator {
  const constant = constantOf(expr, ctx);
  if (constant !== undefined) {
    const value = constant.value;
    return () => value;
  }
  switch (expr.kind) {
    case "NumberLit":
    case "DurationLit":
    case "StringLit":
    case "BoolLit": {
      const value = expr.value;
      return () => value;
    }
    case "NoneLit":
      return () => null;
    case "NameRef":
      return compileName(expr, ctx);
    case "Paren":
      return compileExpr(expr.expr, ctx);
    case "ListLit": {
      const items = expr.items.map((item) => compileExpr(item, ctx));
      return (env) => items.map((item) => item(env));
    }
    case "Member":
      return compileMember(expr, ctx);
    case "Unary": {
      const operand = compileExpr(expr.operand, ctx);
      if (expr.op === "-") {
        return (env) => {
          const v = operand(env);
          return typeof v === "number" ? -v : null;
        };
      }
      return (env) => {
        const v = operand(env);
        return v === null ? null : v !== true;
      };
    }
    case "Binary":
      return compileBinary(expr, ctx);
    case "Call":
      return compileCall(expr, ctx);
    case "Aggregate":
      return compileAggregate(expr, ctx);
    case "Count":
      return compileCount(expr, ctx);
    case "Quantifier":
      return compileQuantifier(expr, ctx);
    case "Pick":
      return compilePick(expr, ctx);
    default:
      return assertNever(expr);
  }
}

/**
 * The value of an expression that needs no round (literals, states, groups,
 * lists of those), so `host.state in [degraded, maintenance]` does not build
 * its list on every evaluation. Undefined when not constant.
 */
function constantOf(expr: Expr, ctx: CompileContext): { value: Value } | undefined {
  switch (expr.kind) {
    case "NumberLit":
    case "DurationLit":
    case "StringLit":
    case "BoolLit":
      return { value: expr.value };
    case "NoneLit":
      return { value: null };
    case "Paren":
      return constantOf(expr.expr, ctx);
    case "NameRef": {
      const symbol = ctx.policy.symbols.get(expr);
      if (symbol?.kind === "state") return { value: symbol.state };
      if (symbol?.kind === "group") return { value: symbol.decl.name.name };
      return undefined;
    }
    case "ListLit": {
      const values: Value[] = [];
      for (const item of expr.items) {
        const c = constantOf(item, ctx);
        if (c === undefined) return undefined;
        values.push(c.value);
      }
      return { value: Object.freeze(values) };
    }
    default:
      return undefined;
  }
}

function compileName(expr: NameRef, ctx: CompileContext): Evaluator {
  const symbol = ctx.policy.symbols.get(expr);
  if (symbol === undefined) throw new Error(`internal: the checker left \`${expr.name}\` unresolved`);
  switch (symbol.kind) {
    case "param": {
      const slot = ctx.slot(symbol.decl);
      return (env) => env.slots[slot] as Value;
    }
    case "let": {
      const slot = ctx.slot(symbol.decl);
      const index = ctx.letIndex.get(symbol.decl)!;
      const evals = ctx.letEvals;
      const name = symbol.decl.name.name;
      return (env) => (env.letState[index] === 2 ? (env.slots[slot] as Value) : forceLet(env, index, slot, evals, name));
    }
    case "group": {
      const name = symbol.decl.name.name;
      return () => name;
    }
    case "state": {
      const state = symbol.state;
      return () => state;
    }
    case "element": {
      const slot = ctx.bindingSlot(symbol.binding);
      return (env) => env.slots[slot] as Value;
    }
    case "constraintSubject": {
      const slot = ctx.subjectSlot(symbol.decl, symbol.subject);
      return (env) => env.slots[slot] as Value;
    }
    case "groupSubject": {
      const slot = ctx.slot(symbol.decl);
      return (env) => env.slots[slot] as Value;
    }
    case "ruleLet": {
      const slot = ctx.slot(symbol.decl);
      return (env) => env.slots[slot] as Value;
    }
    default:
      return assertNever(symbol);
  }
}

/** Evaluates a top-level let the first time it is read in a round; later reads hit the slot. */
function forceLet(env: EvalEnv, index: number, slot: number, evals: readonly Evaluator[], name: string): Value {
  if (env.letState[index] === 1) throw new EvalError(`let ${name} depends on itself`);
  env.letState[index] = 1;
  let value: Value;
  try {
    value = evals[index]!(env);
  } catch (err) {
    env.letState[index] = 0;
    throw err;
  }
  env.slots[slot] = value;
  env.letState[index] = 2;
  return value;
}

function compileMember(expr: Member, ctx: CompileContext): Evaluator {
  const object = compileExpr(expr.object, ctx);
  const property = expr.property.name;
  const type = ctx.policy.types.get(expr.object)?.kind;
  if (type === "labels") {
    return (env) => {
      const labels = object(env);
      return labels === null ? null : labelOf(labels as Labels, property);
    };
  }
  if (property === "group" && type !== "vm") {
    return (env) => {
      const host = object(env);
      if (host === null) return null;
      if (env.groupState !== 2) ensureGroups(env);
      const g = env.groupOf[(host as HostView).index]!;
      return g < 0 ? null : env.groupNames[g]!;
    };
  }
  const getter = FIELD_GETTERS[property];
  if (getter !== undefined) {
    return (env) => {
      const o = object(env);
      if (o === null) return null;
      const v = getter(o as Fields);
      return v === undefined ? null : v;
    };
  }
  return (env) => {
    const o = object(env);
    if (o === null) return null;
    const v = (o as unknown as Record<string, Value | undefined>)[property];
    return v === undefined ? null : v;
  };
}

type Fields = HostView & VmView;

/**
 * Named property reads for the fields of hosts and VMs: a keyed read
 * (`o[property]`) is megamorphic in V8 and several times slower in the
 * hot loops of a round.
 */
const FIELD_GETTERS: Readonly<Record<string, (o: Fields) => Value>> = {
  name: (o) => o.name,
  state: (o) => o.state,
  cpus: (o) => o.cpus,
  mem: (o) => o.mem,
  labels: (o) => o.labels,
  vms: (o) => o.vms,
  load: (o) => o.load,
  load_avg: (o) => o.load_avg,
  used: (o) => o.used,
  other_cpu: (o) => o.other_cpu,
  mem_used: (o) => o.mem_used,
  mem_free: (o) => o.mem_free,
  mem_avail: (o) => o.mem_avail,
  vm_count: (o) => o.vm_count,
  busy: (o) => o.busy,
  cpu: (o) => o.cpu,
  cpu_avg: (o) => o.cpu_avg,
  cpu_changes: (o) => o.cpu_changes,
  pinned: (o) => o.pinned,
  migrating: (o) => o.migrating,
  host: (o) => o.host,
};

function compileBinary(expr: Binary, ctx: CompileContext): Evaluator {
  const left = compileExpr(expr.left, ctx);
  const right = compileExpr(expr.right, ctx);
  switch (expr.op) {
    case "and":
      return (env) => {
        const l = left(env);
        if (l === false) return false;
        const r = right(env);
        if (r === false) return false;
        return l === null || r === null ? null : true;
      };
    case "or":
      return (env) => {
        const l = left(env);
        if (l === true) return true;
        const r = right(env);
        if (r === true) return true;
        return l === null || r === null ? null : false;
      };
    case "??":
      return (env) => {
        const l = left(env);
        return l !== null ? l : right(env);
      };
    case "+":
      return (env) => {
        const l = left(env);
        const r = right(env);
        if (typeof l === "number" && typeof r === "number") return finite(l + r);
        if (typeof l === "string" && typeof r === "string") return l + r;
        return null;
      };
    case "-":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return typeof l === "number" && typeof r === "number" ? finite(l - r) : null;
      };
    case "*":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return typeof l === "number" && typeof r === "number" ? finite(l * r) : null;
      };
    case "/":
      // Division by zero gives none rather than Infinity: no plan can act on it.
      // So does any result past the largest number (1e308 * 10): see `finite`.
      return (env) => {
        const l = left(env);
        const r = right(env);
        return typeof l === "number" && typeof r === "number" && r !== 0 ? finite(l / r) : null;
      };
    case "%":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return typeof l === "number" && typeof r === "number" && r !== 0 ? l % r : null;
      };
    case "==":
    case "!=": {
      // SPEC 2.5: a comparison with none is false, except the tests `== none`
      // and `!= none` (the literal), which ask whether the other side is none.
      // So `vm.labels.tier != "db"` is false for a VM without the label.
      const equal = expr.op === "==";
      if (isNoneLiteral(expr.left) || isNoneLiteral(expr.right)) return (env) => valueEquals(left(env), right(env)) === equal;
      return (env) => {
        const l = left(env);
        const r = right(env);
        return l !== null && r !== null && valueEquals(l, r) === equal;
      };
    }
    case "<":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return l !== null && r !== null && typeof l === typeof r && (l as number) < (r as number);
      };
    case "<=":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return l !== null && r !== null && typeof l === typeof r && (l as number) <= (r as number);
      };
    case ">":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return l !== null && r !== null && typeof l === typeof r && (l as number) > (r as number);
      };
    case ">=":
      return (env) => {
        const l = left(env);
        const r = right(env);
        return l !== null && r !== null && typeof l === typeof r && (l as number) >= (r as number);
      };
    case "in":
      return (env) => {
        const l = left(env);
        if (l === null) return false;
        const r = right(env);
        if (Array.isArray(r)) {
          for (let i = 0; i < r.length; i++) if (valueEquals(l, r[i] as Value)) return true;
          return false;
        }
        if (typeof r === "string" && typeof l === "string") return r.includes(l);
        return false;
      };
    default:
      return assertNever(expr.op);
  }
}

function compileCall(expr: Call, ctx: CompileContext): Evaluator {
  const ref = ctx.policy.calls.get(expr);
  if (ref === undefined) throw new Error(`internal: the checker left the call \`${expr.callee.name}\` unresolved`);
  const args = expr.args.map((arg) => compileExpr(arg, ctx));
  switch (ref.kind) {
    case "planner": {
      const [vmArg, hostArg] = args as [Evaluator, Evaluator];
      return (env) => {
        const vm = vmArg(env);
        const host = hostArg(env);
        if (vm === null || host === null) return null;
        if (env.constraintDepth > 0) throw new EvalError("can_move cannot be used inside a constraint");
        return env.round.canMove(vm as VmView, host as HostView);
      };
    }
    case "stdlib": {
      const impl = resolveStdlib(ref.name);
      const name = ref.name;
      return (env) => {
        const values: Value[] = new Array(args.length);
        for (let i = 0; i < args.length; i++) {
          const v = args[i]!(env);
          if (v === null) return null;
          values[i] = v;
        }
        try {
          const result = impl(values);
          return result === undefined ? null : result;
        } catch (err) {
          throw new EvalError(`${name}: ${(err as Error).message}`);
        }
      };
    }
    case "script":
      return compileScriptCall(expr, ref.name, args, ctx);
    default:
      return assertNever(ref);
  }
}
