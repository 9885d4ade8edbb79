/**
 * Bindings (SPEC 2.3) compiled to loops: where the elements come from (a
 * group's member list, a list value, or every host/VM), then the quantifier,
 * count, aggregate or pick over them. Loops write the element into its slot
 * and call the compiled `where`; nothing is allocated per element, and
 * `exists`/`no` stop at the first match.
 */
import type { Aggregate, Binding, Count, Expr, Pick, Quantifier } from "./ast.js";
import type { CompileContext } from "./compile-context.js";
import { hostSite, isHostLocal } from "./compile-cache.js";
import { compileExpr } from "./compile-expr.js";
import { EvalError, ensureGroups, type EvalEnv, type Evaluator, type Value } from "./compile-types.js";
import { compareForOrder, describeValue, finite, isHost, isVm } from "./compile-values.js";
import type { HostView, VmView } from "./view.js";

const EMPTY: readonly Value[] = Object.freeze([]);

/** The elements a binding ranges over, before `where`. */
export function compileMembers(binding: Binding, ctx: CompileContext): (env: EvalEnv) => readonly Value[] {
  const group = binding.group === null ? -1 : (ctx.groupIndex.get(binding.group.name) ?? -1);
  if (binding.group !== null && group < 0) throw new Error(`internal: unknown group \`${binding.group.name}\``);
  const isHostElement = binding.element === "host";
  if (binding.source !== null) {
    const source = compileExpr(binding.source, ctx);
    // Only a script's result can be a list of something else; the checker guarantees the rest.
    const type = ctx.policy.types.get(binding.source);
    const trusted = type?.kind === "list" && type.element.kind === binding.element;
    return (env) => {
      const list = source(env);
      if (list === null) return EMPTY;
      if (!Array.isArray(list)) throw new EvalError(`a binding ranges over a list, got ${describeValue(list)}`);
      if (!trusted) {
        for (const item of list) {
          if (item !== null && !(isHostElement ? isHost(item) : isVm(item))) {
            throw new EvalError(`\`${binding.element} in …\` met ${describeValue(item)}, which is not a ${binding.element}`);
          }
        }
      }
      if (group < 0) return list.indexOf(null) < 0 ? list : list.filter((v) => v !== null);
      ensureGroups(env);
      return list.filter((v) => v !== null && env.groupOf[hostOf(v, isHostElement).index] === group);
    };
  }
  if (group >= 0) {
    if (isHostElement) {
      return (env) => {
        if (env.groupState !== 2) ensureGroups(env);
        return env.groupMembers[group]!;
      };
    }
    // `light vm`: the VMs of the group's hosts, as they stand in the projected cluster.
    return (env) => {
      ensureGroups(env);
      const out: VmView[] = [];
      for (const host of env.groupMembers[group]!) for (const vm of host.vms) out.push(vm);
      return out;
    };
  }
  return isHostElement ? (env) => env.round.hosts : (env) => env.round.vms;
}

function hostOf(value: Value, isHostElement: boolean): HostView {
  return isHostElement ? (value as HostView) : (value as VmView).host;
}

interface CompiledBinding {
  readonly members: (env: EvalEnv) => readonly Value[];
  readonly slot: number;
  readonly where: Evaluator | null;
}

/** The parts of a binding every use needs; the slot is allocated before `where` compiles. */
export function compileBinding(binding: Binding, ctx: CompileContext): CompiledBinding {
  const slot = ctx.bindingSlot(binding);
  const members = compileMembers(binding, ctx);
  const where = binding.where === null ? null : compileExpr(binding.where, ctx);
  return { members, slot, where };
}

/** A host binding over a group or all hosts whose `where` (and key) read only the host: cached per round. */
function cacheable(binding: Binding, key: Expr | null, ctx: CompileContext): boolean {
  return binding.element === "host" && binding.source === null && isHostLocal(binding.where, binding, ctx) && isHostLocal(key, binding, ctx);
}

export function compileQuantifier(expr: Quantifier, ctx: CompileContext): Evaluator {
  const { members, slot, where } = compileBinding(expr.binding, ctx);
  const found = expr.quantifier === "exists";
  if (where !== null && cacheable(expr.binding, null, ctx)) {
    const site = hostSite(ctx.site(), members, slot, where, null, false);
    return (env) => site(env).passing.length > 0 === found;
  }
  return (env) => {
    const els = members(env);
    if (where === null) return els.length > 0 === found;
    const slots = env.slots;
    for (let i = 0; i < els.length; i++) {
      slots[slot] = els[i]!;
      if (where(env) === true) return found;
    }
    return !found;
  };
}

export function compileCount(expr: Count, ctx: CompileContext): Evaluator {
  const { members, slot, where } = compileBinding(expr.binding, ctx);
  if (where !== null && cacheable(expr.binding, null, ctx)) {
    const site = hostSite(ctx.site(), members, slot, where, null, false);
    return (env) => site(env).passing.length;
  }
  return (env) => {
    const els = members(env);
    if (where === null) return els.length;
    let n = 0;
    const slots = env.slots;
    for (let i = 0; i < els.length; i++) {
      slots[slot] = els[i]!;
      if (where(env) === true) n++;
    }
    return n;
  };
}

/**
 * `AGG(value for binding)`. Elements whose value is none are left out; over
 * no values `sum` is 0 and the others are none. `stddev` is the population
 * standard deviation; `median` of an even count is the mean of the middle two.
 * A result past the largest number is none, as for arithmetic.
 */
export function compileAggregate(expr: Aggregate, ctx: CompileContext): Evaluator {
  const { members, slot, where } = compileBinding(expr.binding, ctx);
  const value = compileExpr(expr.value, ctx);
  const fn = expr.fn;
  if (fn === "median" || fn === "stddev") {
    return (env) => {
      const els = members(env);
      const values: number[] = [];
      for (let i = 0; i < els.length; i++) {
        env.slots[slot] = els[i]!;
        if (where !== null && where(env) !== true) continue;
        const v = value(env);
        if (typeof v === "number") values.push(v);
      }
      if (values.length === 0) return null;
      if (fn === "median") {
        values.sort((a, b) => a - b);
        const mid = values.length >> 1;
        return values.length % 2 === 1 ? values[mid]! : finite((values[mid - 1]! + values[mid]!) / 2);
      }
      let mean = 0;
      for (const v of values) mean += v;
      mean /= values.length;
      let sq = 0;
      for (const v of values) sq += (v - mean) * (v - mean);
      return finite(Math.sqrt(sq / values.length));
    };
  }
  return (env) => {
    const els = members(env);
    const slots = env.slots;
    let n = 0;
    let acc = 0;
    for (let i = 0; i < els.length; i++) {
      slots[slot] = els[i]!;
      if (where !== null && where(env) !== true) continue;
      const v = value(env);
      if (typeof v !== "number") continue;
      if (n === 0) acc = v;
      else if (fn === "sum" || fn === "avg") acc += v;
      else if (fn === "min") acc = v < acc ? v : acc;
      else acc = v > acc ? v : acc;
      n++;
    }
    if (n === 0) return fn === "sum" ? 0 : null;
    return finite(fn === "avg" ? acc / n : acc);
  };
}

/** `pick binding by key`: one pass keeping the best element so far (ties by name). */
export function compilePick(expr: Pick, ctx: CompileContext): Evaluator {
  const { members, slot, where } = compileBinding(expr.binding, ctx);
  const key = compileExpr(expr.order.key, ctx);
  const desc = expr.order.direction === "desc";
  if (cacheable(expr.binding, expr.order.key, ctx)) {
    const site = hostSite(ctx.site(), members, slot, where, key, desc);
    return (env) => {
      const passing = site(env).passing;
      return passing.length > 0 ? passing[0]! : null;
    };
  }
  return (env) => {
    const els = members(env);
    const slots = env.slots;
    let best: Value = null;
    let bestKey: Value = null;
    let bestName = "";
    for (let i = 0; i < els.length; i++) {
      const el = els[i]!;
      slots[slot] = el;
      if (where !== null && where(env) !== true) continue;
      const k = key(env);
      const name = (el as HostView | VmView).name;
      if (best === null || compareForOrder(k, name, bestKey, bestName, desc) < 0) {
        best = el;
        bestKey = k;
        bestName = name;
      }
    }
    return best;
  };
}
