/**
 * The round's arguments inside one QuickJS context (issue 14, part 4): a
 * host or VM of the round (a `ScriptRef`) crosses as JSON the first time it
 * is passed in a round, is frozen there, and every later call that passes it
 * while it has not moved gets that same object by its handle, with no JSON
 * round-trip. Other objects and lists cross as JSON once per distinct text
 * and round. Everything is dropped at the next round (`clear`).
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten";
import { ScriptRef } from "../../grammar/compile-script.js";

/** What running code inside the context gave: a value handled by the host, or the dumped error. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Most objects kept per round (hosts, VMs and JSON texts together); past it
 * the table starts over. A host with 20 VM names is about 1.5 KiB in QuickJS,
 * so a full table stays far below the default 32 MiB limit.
 */
const MAX_ENTRIES = 1024;

/** One host or VM in the context: its frozen object and the projected fields it was built from. */
interface Entry {
  readonly stamp: readonly unknown[];
  readonly handle: QuickJSHandle;
}

export class RoundArguments {
  /** By view object: the planner builds new views each round, and a view is its host or VM for the round. */
  private readonly refs = new Map<object, Entry>();
  /** Parsed, frozen plain arguments (lists, label maps) by their JSON. */
  private readonly texts = new Map<string, QuickJSHandle>();

  constructor(
    private readonly ctx: QuickJSContext,
    /** `parseArg(json)`: parses and deep-freezes a plain argument. Owned from here on, like `entityEntry`. */
    private readonly parseEntry: QuickJSHandle,
    /** `entity(json, isHost)`: parses a host or VM and freezes it and its nested values. */
    private readonly entityEntry: QuickJSHandle,
    /** Reads (and frees) an error QuickJS threw. */
    private readonly dumpError: (handle: QuickJSHandle) => unknown,
  ) {}

  /** Before the arguments of one call: starts over when they might not fit, so no handle of the call is freed under it. */
  reserve(count: number): void {
    if (this.refs.size + this.texts.size + count > MAX_ENTRIES) this.clear();
  }

  /**
   * A handle for one argument. Handles kept for the round are owned here;
   * short-lived ones (numbers, strings) are pushed on `owned` for the caller
   * to dispose. Throws like `JSON.stringify` for a value JSON cannot hold.
   */
  handle(arg: unknown, owned: QuickJSHandle[]): Outcome<QuickJSHandle> {
    const ctx = this.ctx;
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
      default:
        return arg instanceof ScriptRef ? this.refHandle(arg) : this.textHandle(JSON.stringify(arg));
    }
  }

  /** Frees every kept handle (the objects stay alive in QuickJS while a script holds them). */
  clear(): void {
    for (const entry of this.refs.values()) entry.handle.dispose();
    this.refs.clear();
    for (const handle of this.texts.values()) handle.dispose();
    this.texts.clear();
  }

  /** Frees everything, the entry points too (they belong to a context being disposed). */
  dispose(): void {
    this.clear();
    this.parseEntry.dispose();
    this.entityEntry.dispose();
  }

  /**
   * The object of a host or VM: the one already in the context while the
   * view has not moved, else a new one from its JSON. A moved host (a VM
   * planned in or out) always has a new VM list, so it crosses whole rather
   * than being patched field by field.
   */
  private refHandle(ref: ScriptRef): Outcome<QuickJSHandle> {
    const entry = this.refs.get(ref.view);
    if (entry !== undefined && ref.current(entry.stamp)) return { ok: true, value: entry.handle };
    const stamp = ref.stamp();
    const parsed = this.parse(this.entityEntry, JSON.stringify(ref.value()), ref.isHost ? this.ctx.true : this.ctx.false);
    if (!parsed.ok) return parsed;
    // A script may still hold the old version: disposing the handle only drops ours.
    entry?.handle.dispose();
    this.refs.set(ref.view, { stamp, handle: parsed.value });
    return parsed;
  }

  private textHandle(json: string): Outcome<QuickJSHandle> {
    const cached = this.texts.get(json);
    if (cached !== undefined) return { ok: true, value: cached };
    const parsed = this.parse(this.parseEntry, json, this.ctx.undefined);
    if (parsed.ok) this.texts.set(json, parsed.value);
    return parsed;
  }

  private parse(entry: QuickJSHandle, json: string, extra: QuickJSHandle): Outcome<QuickJSHandle> {
    const ctx = this.ctx;
    const text = ctx.newString(json);
    const result = ctx.callFunction(entry, ctx.undefined, text, extra);
    text.dispose();
    if (result.error) return { ok: false, error: this.dumpError(result.error) };
    return { ok: true, value: result.value };
  }
}
