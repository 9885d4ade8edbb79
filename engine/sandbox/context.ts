/**
 * One hardened QuickJS runtime and context: limits, the prelude, and the
 * handful of long-lived handles the host keeps (the call entry, the collect
 * entry, the scripts' functions). Both the analyzer (one per block, thrown
 * away) and the policy sandbox (one per policy, reused across rounds) build
 * on it, so they see exactly the same environment.
 */
import {
  DefaultIntrinsics,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from "quickjs-emscripten";
import { RoundArguments, type Outcome } from "./arguments.js";
import { BAD_RESULT_KEY, PRELUDE_SOURCE } from "./prelude.js";
import { blockFileName } from "./errors.js";
import { reserveMemory, setCallDeadline } from "./module.js";
import { InterruptPacer } from "./pacing.js";

/**
 * QuickJS's stack limit. Measured on Node 20: from 384 KiB up a deeply
 * nested JSON.stringify or parse exhausts Node's native stack inside WASM
 * before QuickJS notices; at 64 KiB QuickJS catches all the cases we tried
 * (plain recursion then stops at about 330 frames, 100 through callbacks).
 */
export const SANDBOX_STACK_BYTES = 64 * 1024;

/**
 * CPU time (µs, the whole process) a call may still use once it is past its
 * deadline in wall time. The checks come about every millisecond (pacing.ts),
 * so on a machine too busy to run us a short call could be stopped for time it
 * never had: 5 of 80 sandbox tests failed that way with the test files run in
 * parallel at a load average of 6. A runaway call is stopped after this much
 * more work; a starved one gets to finish.
 */
const GRACE_CPU_US = 25_000;

/** Time our own code may take (the prelude, the probe: well under a millisecond when the machine is not starved). */
const SETUP_MS = 1000;

export type { Outcome };

/**
 * A runtime + context with the prelude installed. Dispose it exactly once.
 * The runtime lives as long as this object; the context can be replaced
 * (`freshContext`) so scripts start over with no globals of their own.
 */
export class SandboxContext {
  readonly runtime: QuickJSRuntime;
  context!: QuickJSContext;
  /** Epoch ms after which the interrupt handler stops the running code; set before every entry. */
  deadline = Number.POSITIVE_INFINITY;
  /** The process's CPU time (µs) when the running code was first seen past its deadline; null before. */
  private graceFrom: number | null = null;
  /** Sets how often QuickJS checks the deadline while code runs. */
  private pacer!: InterruptPacer;
  private checkEntry!: QuickJSHandle;
  private collectEntry!: QuickJSHandle;
  /** The round's hosts, VMs and other object arguments inside the context. */
  private args!: RoundArguments;
  private readonly functions = new Map<string, QuickJSHandle>();
  private readonly release: () => void;
  /** False between a context's disposal and its replacement's start (which may fail). */
  private contextAlive = false;

  constructor(
    readonly module: QuickJSWASMModule,
    memoryBytes: number,
    private readonly onLog: (line: string) => void,
  ) {
    this.release = reserveMemory(module, memoryBytes);
    try {
      this.runtime = module.newRuntime();
    } catch (error) {
      this.release();
      throw error;
    }
    try {
      this.runtime.setMemoryLimit(memoryBytes);
      this.runtime.setMaxStackSize(SANDBOX_STACK_BYTES);
      // One handler for the runtime's life reading a field we re-arm before
      // every entry: an expired deadline never lingers into the next call.
      // While in time, it sets when QuickJS asks next (pacing.ts).
      const pacer = new InterruptPacer(module);
      this.pacer = pacer;
      this.runtime.setInterruptHandler(() => {
        if (this.overdue()) return true;
        pacer.next();
        return false;
      });
      this.installContext();
    } catch (error) {
      this.runtime.dispose();
      this.release();
      throw error;
    }
  }

  /**
   * Replaces the context with a new one on the same runtime: the blocks'
   * functions and globals are gone (evaluate the blocks again), the runtime's
   * limits stay. Throws like the constructor when the prelude cannot start.
   */
  freshContext(): void {
    this.disposeContext();
    this.installContext();
  }

  /** A new context with the prelude and its entry points. */
  private installContext(): void {
    this.context = this.runtime.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } });
    const ctx = this.context;
    this.pacer.attach(ctx);
    try {
      this.arm(Date.now() + SETUP_MS);
      const factory = ctx.unwrapResult(ctx.evalCode(PRELUDE_SOURCE, "vmpolicy-prelude", { type: "global" }));
      const hostLog = ctx.newFunction("hostLog", (line) => {
        this.onLog(ctx.getString(line));
      });
      // Asked by the prelude's wrappers of builtins that do much work in one native call.
      const hostOverdue = ctx.newFunction("hostOverdue", () => (this.overdue() ? ctx.true : ctx.false));
      const entries = ctx.callFunction(factory, ctx.undefined, hostLog, hostOverdue);
      factory.dispose();
      hostLog.dispose();
      hostOverdue.dispose();
      const api = ctx.unwrapResult(entries);
      this.checkEntry = ctx.getProp(api, "check");
      this.collectEntry = ctx.getProp(api, "collect");
      this.args = new RoundArguments(ctx, ctx.getProp(api, "parseArg"), ctx.getProp(api, "entity"), (h) => this.consumeDump(h));
      api.dispose();
      this.contextAlive = true;
    } catch (error) {
      ctx.dispose();
      throw new Error(`the script sandbox could not start: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.deadline = Number.POSITIVE_INFINITY;
    }
  }

  /** Frees the context and every handle that belongs to it. */
  private disposeContext(): void {
    if (!this.contextAlive) return;
    this.contextAlive = false;
    this.pacer.detach();
    this.args.dispose();
    for (const handle of this.functions.values()) handle.dispose();
    this.functions.clear();
    this.checkEntry.dispose();
    this.collectEntry.dispose();
    this.context.dispose();
  }

  /** Sets the deadline of the code about to run (the interrupt handler reads it) and restarts the pacing. */
  private arm(deadline: number): void {
    this.deadline = deadline;
    this.graceFrom = null;
    this.pacer.start();
  }

  /**
   * Whether the running code must stop: past its deadline, and since first
   * seen so, it used `GRACE_CPU_US` of CPU (a starved process uses none).
   */
  private overdue(): boolean {
    if (Date.now() <= this.deadline) return false;
    const cpu = process.cpuUsage();
    const used = cpu.user + cpu.system;
    if (this.graceFrom === null) {
      this.graceFrom = used;
      return false;
    }
    return used - this.graceFrom >= GRACE_CPU_US;
  }

  /** Runs script block `index` as global code (its functions become globals) within `ms`. */
  evalBlock(source: string, index: number, ms: number): Outcome<void> {
    this.arm(Date.now() + ms);
    const result = this.context.evalCode(source, blockFileName(index), { type: "global" });
    this.deadline = Number.POSITIVE_INFINITY;
    if (result.error) return { ok: false, error: this.consumeDump(result.error) };
    result.value.dispose();
    return { ok: true, value: undefined };
  }

  /**
   * The functions the blocks evaluated so far added to the global object,
   * with their `length`; also caches a handle to each for `call`.
   */
  collect(ms: number): Outcome<{ name: string; arity: number }[]> {
    this.arm(Date.now() + ms);
    const result = this.context.callFunction(this.collectEntry, this.context.undefined);
    this.deadline = Number.POSITIVE_INFINITY;
    if (result.error) return { ok: false, error: this.consumeDump(result.error) };
    const json = this.context.getString(result.value);
    result.value.dispose();
    const pairs = JSON.parse(json) as [string, number][];
    for (const [name] of pairs) {
      if (this.functions.has(name)) continue;
      this.functions.set(name, this.context.getProp(this.context.global, name));
    }
    return { ok: true, value: pairs.map(([name, arity]) => ({ name, arity })) };
  }

  /** True when `collect` found a function of that name. */
  has(name: string): boolean {
    return this.functions.has(name);
  }

  /**
   * Calls function `name` with `args` (plain JSON values or `ScriptRef`s),
   * stopping at `deadline`. Numbers, strings, bools and null cross as
   * values; a host or VM crosses once per round and version and is then
   * passed by handle, other objects and lists once per distinct JSON text
   * and round (`RoundArguments`). The script's function is called directly;
   * the result is a number, string, bool, null or a list of those (checked
   * by `resultOf`), anything else comes back as the dumped error.
   */
  call(name: string, args: readonly unknown[], deadline: number): Outcome<unknown> {
    const fn = this.functions.get(name);
    if (fn === undefined) throw new Error(`no script function ${name}`);
    const ctx = this.context;
    const handles: QuickJSHandle[] = [];
    const owned: QuickJSHandle[] = [];
    this.arm(deadline);
    setCallDeadline(deadline);
    try {
      this.args.reserve(args.length);
      for (const arg of args) {
        const handle = this.args.handle(arg, owned);
        if (!handle.ok) return handle;
        handles.push(handle.value);
      }
      const result = ctx.callFunction(fn, ctx.undefined, handles);
      if (result.error) return { ok: false, error: this.consumeDump(result.error) };
      return this.resultOf(result.value);
    } finally {
      this.deadline = Number.POSITIVE_INFINITY;
      setCallDeadline(Number.POSITIVE_INFINITY);
      for (const handle of owned) handle.dispose();
    }
  }

  /** A script's result as a host value (and frees it), or the prelude's verdict on a result of the wrong kind. */
  private resultOf(value: QuickJSHandle): Outcome<unknown> {
    const ctx = this.context;
    try {
      switch (ctx.typeof(value)) {
        case "number": {
          const n = ctx.getNumber(value);
          return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, error: badResult(n !== n ? "NaN" : n > 0 ? "Infinity" : "-Infinity") };
        }
        case "string":
          return { ok: true, value: ctx.getString(value) };
        case "boolean":
          return { ok: true, value: ctx.dump(value) };
        case "undefined":
          return { ok: true, value: null };
        default: {
          // null, a list (copied, small, JSON-safe) or a kind the prelude names in its error.
          const checked = ctx.callFunction(this.checkEntry, ctx.undefined, value);
          if (checked.error) return { ok: false, error: this.consumeDump(checked.error) };
          try {
            return { ok: true, value: ctx.dump(checked.value) };
          } finally {
            checked.value.dispose();
          }
        }
      }
    } finally {
      value.dispose();
    }
  }

  /** Forgets the round's arguments (the policy sandbox calls this once per round). */
  clearArguments(): void {
    this.args.clear();
  }

  /** Whether the context still runs code (a cheap probe after a failure). */
  usable(): boolean {
    try {
      this.arm(Date.now() + SETUP_MS); // "0" cannot loop: the deadline only guards against a machine too busy to run it in time
      const r = this.context.evalCode("0", "vmpolicy-probe", { type: "global" });
      this.deadline = Number.POSITIVE_INFINITY;
      const ok = r.error === undefined;
      r.dispose();
      return ok;
    } catch {
      return false;
    }
  }

  /**
   * QuickJS's own accounting of the runtime: `usedBytes` (objects, strings,
   * shapes reachable in the heap) and `allocations` (live malloc blocks,
   * which also counts an orphaned value nobody can reach: the leak signal).
   */
  memoryUsage(): { usedBytes: number; allocations: number } {
    let handle: QuickJSHandle | null = null;
    try {
      handle = this.runtime.computeMemoryUsage();
      const usage = this.context.dump(handle) as { memory_used_size?: number; malloc_count?: number };
      return { usedBytes: usage.memory_used_size ?? 0, allocations: usage.malloc_count ?? 0 };
    } catch {
      return { usedBytes: 0, allocations: 0 }; // no room even to measure: the caller's limits still apply
    } finally {
      if (handle?.alive) handle.dispose();
    }
  }

  dispose(): void {
    this.disposeContext();
    this.runtime.dispose();
    this.release();
  }

  /** Frees the reservation of a runtime that is abandoned without dispose (its module crashed). */
  abandon(): void {
    this.release();
  }

  private consumeDump(handle: QuickJSHandle): unknown {
    try {
      return this.context.dump(handle);
    } catch (error) {
      return { name: "InternalError", message: `could not read the error: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      if (handle.alive) handle.dispose();
    }
  }
}

/** The error the prelude's `check` throws for a result of the wrong kind, for the kinds the host sees itself. */
function badResult(what: string): { [BAD_RESULT_KEY]: string } {
  return { [BAD_RESULT_KEY]: what };
}
