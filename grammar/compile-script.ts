/**
 * Calls of `script` functions (SPEC 2.8) compiled to closures over the
 * policy's sandbox: a host or VM argument goes as a `ScriptRef` (the sandbox
 * keeps one copy per round and version), other arguments as JSON snapshots;
 * results are checked, and where the checker typed the call as a host or VM
 * (or a list of them) a string result is looked up by name; a miss fails
 * the binding.
 */
import type { Call } from "./ast.js";
import type { CompileContext } from "./compile-context.js";
import { EvalError, type EvalEnv, type Evaluator, type Value } from "./compile-types.js";
import { describeValue, finite, isHost, isVm, toScriptArg } from "./compile-values.js";
import type { HostView, VmView } from "./view.js";

/**
 * A host or VM of the round passed to a script function. The sandbox turns
 * it into a frozen object in the QuickJS context the first time it is passed
 * in a round (`value()`, as JSON) and hands that same object to every later
 * call while `current` says the view has not moved, so a call with a host
 * argument costs no JSON round-trip. `stamp()` records what `value()` is made
 * of besides the name: every field a script sees, with the VM list and the
 * label map by identity (the planner replaces a host's `vms` list when a VM
 * moves and never mutates it, see `engine/plan/cluster.ts`).
 */
export class ScriptRef {
  /** Whether the view is a host (its `vms` and `labels` are the nested values to freeze), else a VM. */
  readonly isHost: boolean;

  constructor(
    readonly view: HostView | VmView,
    /** The host's group as this policy sees it now (null while classifying, and for a VM). */
    readonly group: string | null,
  ) {
    this.isHost = isHost(view);
  }

  /** The object the script sees, as plain JSON (`toScriptArg`). */
  value(): unknown {
    return toScriptArg(this.view, () => this.group);
  }

  stamp(): unknown[] {
    if (this.isHost) {
      const v = this.view as HostView;
      return [v.state, v.cpus, v.mem, v.labels, v.load, v.load_avg, v.used, v.other_cpu, v.mem_used, v.mem_free, v.mem_avail, v.vm_count, v.busy, this.group, v.vms];
    }
    const vm = this.view as VmView;
    return [vm.cpu, vm.cpu_avg, vm.mem, vm.labels, vm.pinned, vm.migrating, vm.load, vm.host, vm.cpu_changes];
  }

  /** Whether `stamp` (an earlier `stamp()` of the same view) still describes it. Allocates nothing. */
  current(stamp: readonly unknown[]): boolean {
    if (this.isHost) {
      const v = this.view as HostView;
      return (
        stamp[14] === v.vms && stamp[4] === v.load && stamp[12] === v.busy && stamp[13] === this.group && stamp[9] === v.mem_free &&
        stamp[10] === v.mem_avail && stamp[8] === v.mem_used && stamp[5] === v.load_avg && stamp[6] === v.used && stamp[11] === v.vm_count &&
        stamp[0] === v.state && stamp[1] === v.cpus && stamp[2] === v.mem && stamp[3] === v.labels && stamp[7] === v.other_cpu
      );
    }
    const vm = this.view as VmView;
    return (
      stamp[7] === vm.host && stamp[6] === vm.load && stamp[5] === vm.migrating && stamp[0] === vm.cpu && stamp[1] === vm.cpu_avg &&
      stamp[2] === vm.mem && stamp[3] === vm.labels && stamp[4] === vm.pinned && stamp[8] === vm.cpu_changes
    );
  }
}

/**
 * A call into the policy's QuickJS sandbox: hosts and VMs go as `ScriptRef`,
 * other arguments as JSON snapshots, the result is checked, and where the checker typed the call as
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
      values.push(isHost(v) ? new ScriptRef(v, groupName(v)) : isVm(v) ? new ScriptRef(v, null) : toScriptArg(v, groupName));
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
