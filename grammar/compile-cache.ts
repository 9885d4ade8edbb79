/**
 * Per-round caches for host bindings whose `where` and `by` read only the
 * host itself (and params, lets, groups, constants): `pick light host where
 * not host.busy by host.load asc` inside a `for each` would otherwise scan
 * every light host once per binding. Such a site keeps, for the round, its
 * passing hosts sorted by key; when the planner reports a host touched by a
 * planned move (`EvalEnv.touched`), only that host is re-evaluated and
 * re-positioned. Sound because a host's projected fields change only when
 * it is an end of a planned move (SPEC 1), and groups and lets are fixed
 * for the round.
 */
import type { Binding, Expr } from "./ast.js";
import type { CompileContext } from "./compile-context.js";
import type { EvalEnv, Evaluator, Value } from "./compile-types.js";
import { compareForOrder } from "./compile-values.js";
import type { HostView } from "./view.js";

/** Host fields that change only when the host itself takes part in a planned move (or never). */
const HOST_LOCAL_FIELDS = new Set([
  "name", "state", "cpus", "mem", "labels", "load", "load_avg", "used", "other_cpu", "mem_used", "mem_free", "mem_avail", "vm_count", "busy", "group",
]);

/** Whether `expr` depends only on `binding`'s host element and on values fixed for the round. */
export function isHostLocal(expr: Expr | null, binding: Binding, ctx: CompileContext): boolean {
  if (expr === null) return true;
  switch (expr.kind) {
    case "NumberLit":
    case "DurationLit":
    case "StringLit":
    case "BoolLit":
    case "NoneLit":
      return true;
    case "NameRef": {
      const s = ctx.policy.symbols.get(expr);
      if (s === undefined) return false;
      if (s.kind === "element") return s.binding === binding;
      return s.kind === "param" || s.kind === "let" || s.kind === "group" || s.kind === "state";
    }
    case "Paren":
      return isHostLocal(expr.expr, binding, ctx);
    case "ListLit":
      return expr.items.every((item) => isHostLocal(item, binding, ctx));
    case "Unary":
      return isHostLocal(expr.operand, binding, ctx);
    case "Binary":
      return isHostLocal(expr.left, binding, ctx) && isHostLocal(expr.right, binding, ctx);
    case "Member": {
      if (isElement(expr.object, binding, ctx)) return HOST_LOCAL_FIELDS.has(expr.property.name);
      // `host.labels.KEY`
      const o = expr.object;
      return o.kind === "Member" && o.property.name === "labels" && isElement(o.object, binding, ctx);
    }
    case "Call":
      return ctx.policy.calls.get(expr)?.kind === "stdlib" && expr.args.every((a) => isHostLocal(a, binding, ctx));
    default:
      return false;
  }
}

function isElement(expr: Expr, binding: Binding, ctx: CompileContext): boolean {
  if (expr.kind === "Paren") return isElement(expr.expr, binding, ctx);
  if (expr.kind !== "NameRef") return false;
  const s = ctx.policy.symbols.get(expr);
  return s?.kind === "element" && s.binding === binding;
}

/** A site's state for one round: the member hosts that pass `where`, in `by` order. */
export interface HostSite {
  seen: number;
  readonly member: Uint8Array;
  readonly passing: HostView[];
  readonly keys: Value[];
}

/**
 * Returns a function giving the up-to-date `HostSite` of a cacheable binding
 * site: built on first use in a round, then brought up to date with the
 * hosts touched since.
 */
export function hostSite(
  site: number,
  members: (env: EvalEnv) => readonly Value[],
  slot: number,
  where: Evaluator | null,
  key: Evaluator | null,
  desc: boolean,
): (env: EvalEnv) => HostSite {
  const passes = (env: EvalEnv, host: HostView): boolean => {
    env.slots[slot] = host;
    return where === null || where(env) === true;
  };
  const insert = (env: EvalEnv, c: HostSite, host: HostView): void => {
    const k = key === null ? null : key(env);
    // Binary search for the first entry that sorts after (k, name).
    let lo = 0;
    let hi = c.passing.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareForOrder(c.keys[mid]!, c.passing[mid]!.name, k, host.name, desc) < 0) lo = mid + 1;
      else hi = mid;
    }
    c.passing.splice(lo, 0, host);
    c.keys.splice(lo, 0, k);
  };
  const build = (env: EvalEnv): HostSite => {
    const els = members(env) as readonly HostView[];
    const c: HostSite = { seen: env.touched.length, member: new Uint8Array(env.round.hosts.length), passing: [], keys: [] };
    const order: number[] = [];
    for (let i = 0; i < els.length; i++) {
      const host = els[i]!;
      c.member[host.index] = 1;
      if (!passes(env, host)) continue;
      c.passing.push(host);
      c.keys.push(key === null ? null : key(env));
      order.push(order.length);
    }
    if (key !== null || !isNameSorted(c.passing)) {
      order.sort((a, b) => compareForOrder(c.keys[a]!, c.passing[a]!.name, c.keys[b]!, c.passing[b]!.name, desc));
      const hosts = order.map((i) => c.passing[i]!);
      const keys = order.map((i) => c.keys[i]!);
      c.passing.splice(0, c.passing.length, ...hosts);
      c.keys.splice(0, c.keys.length, ...keys);
    }
    env.caches[site] = c;
    return c;
  };
  return (env) => {
    const c = (env.caches[site] as HostSite | undefined) ?? build(env);
    const touched = env.touched;
    if (c.seen === touched.length) return c;
    for (let i = c.seen; i < touched.length; i++) {
      const host = touched[i]!;
      if (c.member[host.index] !== 1) continue;
      const at = c.passing.indexOf(host);
      if (at >= 0) {
        c.passing.splice(at, 1);
        c.keys.splice(at, 1);
      }
      if (passes(env, host)) insert(env, c, host);
    }
    c.seen = touched.length;
    return c;
  };
}

function isNameSorted(hosts: readonly HostView[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (!(hosts[i - 1]!.name < hosts[i]!.name)) return false;
  return true;
}
