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
import { PRELUDE_SOURCE } from "./prelude.js";
import { blockFileName } from "./errors.js";
import { reserveMemory, setCallDeadline } from "./module.js";

/**
 * QuickJS's stack limit. Measured on Node 20: from 384 KiB up a deeply
 * nested JSON.stringify or parse exhausts Node's native stack inside WASM
 * before QuickJS notices; at 64 KiB QuickJS catches all the cases we tried
 * (plain recursion then stops at about 330 frames, 100 through callbacks).
 */
export const SANDBOX_STACK_BYTES = 64 * 1024;

/** Most distinct parsed arguments kept per round; past it the cache starts over. */
const ARG_CACHE_MAX = 256;

/** Time the prelude may take (it is ours and takes well under a millisecond). */
const SETUP_MS = 1000;

/** What running code inside the context gave: a value handled by the host, or the dumped error. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

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
  private callEntry!: QuickJSHandle;
  private collectEntry!: QuickJSHandle;
  private parseEntry!: QuickJSHandle;
  private patchEntry!: QuickJSHandle;
  /** Parsed, frozen object/list arguments keyed by their JSON: a host passed to many calls is parsed once. */
  private readonly argCache = new Map<string, QuickJSHandle>();
  /**
   * The latest version of each named object argument (a host or VM) this
   * round: the planner passes the same host again and again with only its
   * projected fields moved, so a later version is built from the last one by
   * replacing the top-level fields that changed (`patch`), not by
   * stringifying and parsing it whole (~2 µs instead of ~30 µs for a host
   * with 20 VMs). Its handles are owned by `patched` or `argCache`.
   */
  private readonly byName = new Map<string, { readonly fields: Record<string, unknown>; readonly handle: QuickJSHandle }>();
  private readonly patched: QuickJSHandle[] = [];
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
      this.runtime.setInterruptHandler(() => Date.now() > this.deadline);
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
    try {
      this.deadline = Date.now() + SETUP_MS;
      const factory = ctx.unwrapResult(ctx.evalCode(PRELUDE_SOURCE, "vmpolicy-prelude", { type: "global" }));
      const hostLog = ctx.newFunction("hostLog", (line) => {
        this.onLog(ctx.getString(line));
      });
      // Asked by the prelude's wrappers of builtins that do much work in one native call.
      const hostOverdue = ctx.newFunction("hostOverdue", () => (Date.now() > this.deadline ? ctx.true : ctx.false));
      const entries = ctx.callFunction(factory, ctx.undefined, hostLog, hostOverdue);
      factory.dispose();
      hostLog.dispose();
      hostOverdue.dispose();
      const api = ctx.unwrapResult(entries);
      this.callEntry = ctx.getProp(api, "call");
      this.collectEntry = ctx.getProp(api, "collect");
      this.parseEntry = ctx.getProp(api, "parseArg");
      this.patchEntry = ctx.getProp(api, "patch");
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
    this.clearArgCache();
    for (const handle of this.functions.values()) handle.dispose();
    this.functions.clear();
    this.callEntry.dispose();
    this.collectEntry.dispose();
    this.parseEntry.dispose();
    this.patchEntry.dispose();
    this.context.dispose();
  }

  /** Runs script block `index` as global code (its functions become globals) within `ms`. */
  evalBlock(source: string, index: number, ms: number): Outcome<void> {
    this.deadline = Date.now() + ms;
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
    this.deadline = Date.now() + ms;
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
   * Calls function `name` with `args` (plain JSON values), stopping at
   * `deadline`. Numbers, strings, bools and null cross as values; objects
   * and lists cross as JSON, parsed once per distinct text and round
   * (QuickJS's JSON.parse is most of a call's cost: ~23 µs for a host with
   * 20 VM names). The result is a number, string, bool, null or a list of
   * those (the prelude checked it); anything else comes back as the
   * dumped error.
   */
  call(name: string, args: readonly unknown[], deadline: number): Outcome<unknown> {
    const fn = this.functions.get(name);
    if (fn === undefined) throw new Error(`no script function ${name}`);
    const ctx = this.context;
    const handles: QuickJSHandle[] = [fn];
    const owned: QuickJSHandle[] = [];
    this.deadline = deadline;
    setCallDeadline(deadline);
    try {
      for (const arg of args) {
        const handle = this.argHandle(arg, owned);
        if (!handle.ok) return handle;
        handles.push(handle.value);
      }
      const result = ctx.callFunction(this.callEntry, ctx.undefined, handles);
      if (result.error) return { ok: false, error: this.consumeDump(result.error) };
      const value = result.value;
      try {
        switch (ctx.typeof(value)) {
          case "number":
            return { ok: true, value: ctx.getNumber(value) };
          case "string":
            return { ok: true, value: ctx.getString(value) };
          default:
            // boolean, null, or the list the prelude copied: small, JSON-safe.
            return { ok: true, value: ctx.dump(value) };
        }
      } finally {
        value.dispose();
      }
    } finally {
      this.deadline = Number.POSITIVE_INFINITY;
      setCallDeadline(Number.POSITIVE_INFINITY);
      for (const handle of owned) handle.dispose();
    }
  }

  /** Drops the parsed arguments (the policy set calls this once per round). */
  clearArgCache(): void {
    for (const handle of this.argCache.values()) handle.dispose();
    this.argCache.clear();
    for (const handle of this.patched) handle.dispose();
    this.patched.length = 0;
    this.byName.clear();
  }

  /** A handle for one argument; short-lived ones are pushed on `owned` for the caller to dispose. */
  private argHandle(arg: unknown, owned: QuickJSHandle[]): Outcome<QuickJSHandle> {
    const ctx = this.context;
    if (arg === null || arg === undefined) return { ok: true, value: ctx.null };
    switch (typeof arg) {
      case "boolean":
        return { ok: true, value: arg ? ctx.true : ctx.false };
      case "number": {
        if (!Number.isFinite(arg)) return { ok: true, value: ctx.null }; // as JSON would
        const h = ctx.newNumber(arg);
        owned.push(h);
        return { ok: true, value: h };
      }
      case "string": {
        const h = ctx.newString(arg);
        owned.push(h);
        return { ok: true, value: h };
      }
      default: {
        const name = Array.isArray(arg) ? undefined : (arg as { name?: unknown }).name;
        const named = typeof name === "string" ? (arg as Record<string, unknown>) : null;
        if (named !== null) {
          const patched = this.patchedHandle(name as string, named);
          if (patched !== null) return { ok: true, value: patched };
        }
        const json = JSON.stringify(arg);
        const cached = this.argCache.get(json);
        if (cached !== undefined) return { ok: true, value: cached };
        const text = ctx.newString(json);
        const parsed = ctx.callFunction(this.parseEntry, ctx.undefined, text);
        text.dispose();
        if (parsed.error) return { ok: false, error: this.consumeDump(parsed.error) };
        if (this.argCache.size + this.patched.length >= ARG_CACHE_MAX) this.clearArgCache();
        this.argCache.set(json, parsed.value);
        if (named !== null) this.byName.set(name as string, { fields: named, handle: parsed.value });
        return { ok: true, value: parsed.value };
      }
    }
  }

  /**
   * The handle of `arg` built from the last version of the object named
   * `name` this round, or null when there is none or it differs in more than
   * top-level scalar fields (then it crosses as JSON). The copy equals what
   * parsing its JSON would give: same keys in the same order, non-finite
   * numbers as null, -0 as 0.
   */
  private patchedHandle(name: string, arg: Record<string, unknown>): QuickJSHandle | null {
    const prev = this.byName.get(name);
    if (prev === undefined) return null;
    const keys = Object.keys(arg);
    const prevKeys = Object.keys(prev.fields);
    if (keys.length !== prevKeys.length) return null;
    const ctx = this.context;
    const changed: QuickJSHandle[] = [];
    const owned: QuickJSHandle[] = [];
    const give = (h: QuickJSHandle) => (owned.push(h), h);
    try {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (key !== prevKeys[i]) return null;
        const value = arg[key];
        const before = prev.fields[key];
        if (value === before) continue;
        if ((typeof value === "object" && value !== null) || (typeof before === "object" && before !== null)) {
          if (sameJson(value, before)) continue;
          return null;
        }
        let handle: QuickJSHandle;
        if (value === null) handle = ctx.null;
        else if (typeof value === "boolean") handle = value ? ctx.true : ctx.false;
        else if (typeof value === "string") handle = give(ctx.newString(value));
        else if (typeof value === "number") handle = Number.isFinite(value) ? give(ctx.newNumber(value === 0 ? 0 : value)) : ctx.null;
        else return null; // undefined, functions, bigints: JSON decides (or refuses)
        changed.push(give(ctx.newString(key)), handle);
      }
      if (changed.length === 0) {
        this.byName.set(name, { fields: arg, handle: prev.handle });
        return prev.handle;
      }
      const result = ctx.callFunction(this.patchEntry, ctx.undefined, prev.handle, ...changed);
      if (result.error) {
        result.error.dispose();
        return null;
      }
      if (this.argCache.size + this.patched.length >= ARG_CACHE_MAX) {
        // Starting over frees prev too: parse this one whole instead.
        result.value.dispose();
        return null;
      }
      this.patched.push(result.value);
      this.byName.set(name, { fields: arg, handle: result.value });
      return result.value;
    } finally {
      for (const h of owned) h.dispose();
    }
  }

  /** Whether the context still runs code (a cheap probe after a failure). */
  usable(): boolean {
    try {
      this.deadline = Date.now() + 100;
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

/** Whether two JSON-like values (plain objects, arrays, scalars) are equal as JSON. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i] || !sameJson((a as Record<string, unknown>)[ka[i]!], (b as Record<string, unknown>)[ka[i]!])) return false;
  }
  return true;
}
