/**
 * Calls of `script` functions (SPEC 2.8) compiled to closures over the
 * policy's sandbox: arguments cross as JSON snapshots, results are checked,
 * and where the checker typed the call as a host or VM (or a list of them)
 * a string result is looked up by name; a miss fails the binding.
 */
import type { Call } from "./ast.js";
import type { CompileContext } from "./compile-context.js";
import { EvalError, type EvalEnv, type Evaluator, type Value } from "./compile-types.js";
import { describeValue, finite, isHost, isVm, toScriptArg } from "./compile-values.js";
import type { HostView } from "./view.js";

/**
 * A call into the policy's QuickJS sandbox: arguments cross as JSON
 * snapshots, the result is checked, and where the checker typed the call as
 * a host or VM a string result is looked up by name (SPEC 2.8).
 */
export function compileScriptCall(expr: Call, name: string, args: readonly Evaluator[], ctx: CompileContext): Evaluator {
  const type = ctx.policy.types.get(expr);
  const wants = type?.kind === "host" || type?.kind === "vm" ? type.kind : type?.kind === "list" && (type.element.kind === "host" || type.element.kind === "vm") ? type.element.kind : null;
  return (env) => {
    if (env.scripts === null) throw new EvalError(`script ${name}: scripts are not available in this build`);
    // While groups are being classified a script sees `group: null`.
    const groupName = (host: HostView): string | null => {
      if (env.groupState !== 2) return null;
      const g = env.groupOf[host.index]!;
      return g < 0 ? null : env.groupNames[g]!;
    };
    const values: unknown[] = [];
    for (const arg of args) {
      const v = arg(env);
      // SPEC 2.5: a function call on none gives none; the script is not asked.
      if (v === null) return null;
      values.push(toScriptArg(v, groupName));
    }
    const result = env.scripts.call(name, values);
    if (!result.ok) {
      // The sandbox already says `script NAME: …`; keep one prefix.
      throw new EvalError(result.message.startsWith(`script ${name}`) ? result.message : `script ${name}: ${result.message}`);
    }
    const value = fromScript(result.value, name);
    if (wants === null) return value;
    return Array.isArray(value) ? value.map((v) => lookUp(env, v as Value, wants, name)) : lookUp(env, value, wants, name);
  };
}

function fromScript(value: unknown, name: string): Value {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return finite(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.map((v) => fromScript(v, name));
  throw new EvalError(`script ${name}: returned ${typeof value}, expected a number, string, bool, null or a list of those`);
}

function lookUp(env: EvalEnv, value: Value, wants: "host" | "vm", name: string): Value {
  if (typeof value !== "string") {
    if (value === null || (wants === "host" ? isHost(value) : isVm(value))) return value;
    throw new EvalError(`script ${name}: returned ${describeValue(value)}, expected the name of a ${wants}`);
  }
  const found = wants === "host" ? env.round.hostByName(value) : env.round.vmByName(value);
  if (found === undefined) throw new EvalError(`script ${name}: returned "${value}", which names no ${wants}`);
  return found;
}
