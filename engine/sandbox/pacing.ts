/**
 * How often QuickJS asks whether a script call is out of time (issue 11,
 * part 4). QuickJS counts "polls" (jumps and calls) in its
 * context's `interrupt_counter` and calls the interrupt handler only when the
 * counter runs out, every 10 000 polls. A loop whose every turn is one big
 * native operation (`[...a]` of a million items, `JSON.stringify` of a big
 * object, `a.slice()`) polls once per turn, so 10 000 turns of 36 ms ran six
 * minutes past a 50 ms limit; no builtin wrapper can catch the spread
 * operator. The handler is the one place the host gets control, and the
 * counter is an int in the context's WASM memory: each time the handler runs
 * it sets the counter so that the next check comes about a millisecond of
 * work later (polls that are cheap raise the period, up to 32; polls that
 * are slow lower it to 1), and each call starts with a period of 8. A call
 * therefore stops within about one native operation of its deadline
 * whichever builtin or operator allocates (the prelude's wrapped builtins
 * cover a loop that turns from cheap polls to slow ones), and a short call
 * never reaches the handler at all.
 *
 * The counter's place inside `JSContext` is a fact of the WASM build, not
 * of the API, so it is found by observation once per module (`calibrate`):
 * the one word that reads 10 000 when the handler runs and then goes down by
 * the number of loop turns run between two reads. If no single word does,
 * pacing stays off and QuickJS's own period applies (the wrapped builtins
 * still ask, and the memory guard in `module.ts` still charges allocation to
 * the deadline).
 */
import type { QuickJSContext, QuickJSWASMModule } from "quickjs-emscripten";

/** QuickJS's `JS_INTERRUPT_COUNTER_INIT`: the counter's value whenever the handler runs. */
const QUICKJS_PERIOD = 10_000;
/**
 * The longest period we set. A loop that turns from cheap polls to slow ones
 * runs up to this many of them before the period adapts, whatever each
 * costs: at 1024, a million-item spread (~20 ms a turn here) after a cheap
 * loop ran 6-10 s past its 50 ms limit whenever the heap had room, so that
 * no growth was refused. At 32 that is ~0.6 s at most; a check (~0.5 µs)
 * every 32 polls of ~20 ns costs a tight loop about a quarter more.
 */
const MAX_PERIOD = 32;
/**
 * Polls before the first check of a call. Every jump polls, not only a
 * loop's, so a short scoring function with a ternary polls twice; below 8
 * polls a call never pays for the handler. (With 2, each of
 * plan_10k_script's 20,000 calls per round asked it, and a garbage
 * collection of the host that stalled one of them past 50 ms failed the
 * call.) A bomb gets its first check after 8 of its operations.
 */
const START_PERIOD = 8;
/** Checks closer than this (ms) are cheap polls: the period grows. */
const FAST_MS = 0.25;
/** Checks further apart than this (ms) are slow polls: the period shrinks. */
const SLOW_MS = 1;
/** Bytes of `JSContext` searched for the counter. */
const SEARCH_BYTES = 2048;

/** Word index of `interrupt_counter` from the start of `JSContext`, per module (null: not found, pacing off). */
const counterWords = new WeakMap<QuickJSWASMModule, number | null>();

/** The address of a context's `JSContext` in WASM memory (quickjs-emscripten keeps it in a protected field). */
function contextAddress(context: QuickJSContext): number | null {
  const value = (context as unknown as { ctx?: { value?: unknown } }).ctx?.value;
  return typeof value === "number" && value > 0 && value % 4 === 0 ? value : null;
}

/**
 * Finds `interrupt_counter` by watching a throwaway context on `module`:
 * the one word equal to 10 000 when the handler runs that then falls in
 * step with the turns of loops run between reads (100 turns, then twice as
 * many polls for 200). Only reads.
 */
function calibrate(module: QuickJSWASMModule): number | null {
  let memory: WebAssembly.Memory;
  try {
    memory = module.getWasmMemory();
  } catch {
    return null;
  }
  const runtime = module.newRuntime();
  try {
    const context = runtime.newContext();
    try {
      const base = contextAddress(context);
      if (base === null) return null;
      const words = SEARCH_BYTES / 4;
      const read = () => new Int32Array(memory.buffer, base, words).slice();
      // The first check reads the context and stops the endless loop: the counter is then 10 000.
      let atHandler: Int32Array | null = null;
      runtime.setInterruptHandler(() => {
        atHandler = read();
        return true;
      });
      const spun = context.evalCode("for (;;) {}");
      spun.dispose();
      runtime.removeInterruptHandler();
      const reads: Int32Array[] = [];
      const probe = context.newFunction("probe", () => {
        reads.push(read());
      });
      context.setProp(context.global, "probe", probe);
      probe.dispose();
      // 300 turns are far fewer than 10 000 polls: the counter cannot run out between the reads.
      const ran = context.evalCode("probe(); for (let i = 0; i < 100; i++) {} probe(); for (let i = 0; i < 200; i++) {} probe();");
      if (ran.error) {
        ran.error.dispose();
        return null;
      }
      ran.value.dispose();
      const handlerRead = atHandler as Int32Array | null;
      if (handlerRead === null || reads.length !== 3) return null;
      const found: number[] = [];
      for (let w = 0; w < words; w++) {
        // 10 000 at the check, and just below it (a few polls later) at the first read.
        if (handlerRead[w] !== QUICKJS_PERIOD || reads[0]![w]! > QUICKJS_PERIOD || reads[0]![w]! < QUICKJS_PERIOD - 100) continue;
        const first = reads[0]![w]! - reads[1]![w]!;
        const second = reads[1]![w]! - reads[2]![w]!;
        if (first >= 100 && first <= 400 && second >= 2 * first - 10 && second <= 2 * first + 10 && reads[2]![w]! > 0) found.push(w);
      }
      return found.length === 1 ? found[0]! : null;
    } finally {
      context.dispose();
    }
  } catch {
    return null;
  } finally {
    runtime.dispose();
  }
}

/** The counter's word index for `module`, calibrated on first use. */
function counterWord(module: QuickJSWASMModule): number | null {
  if (!counterWords.has(module)) counterWords.set(module, calibrate(module));
  return counterWords.get(module)!;
}

/** Paces the interrupt checks of one runtime's current context. */
export class InterruptPacer {
  private readonly word: number | null;
  private readonly memory: WebAssembly.Memory | null;
  private view: Int32Array | null = null;
  /** Index of the counter in `view`, or -1 while no context is attached. */
  private slot = -1;
  private period = START_PERIOD;
  private lastCheck = 0;

  constructor(module: QuickJSWASMModule) {
    this.word = counterWord(module);
    this.memory = this.word === null ? null : module.getWasmMemory();
  }

  /** Whether pacing is on for this module (the counter was found). */
  get active(): boolean {
    return this.word !== null;
  }

  /** Points the pacer at `context` (after each new context). */
  attach(context: QuickJSContext): void {
    const base = contextAddress(context);
    this.slot = this.word === null || base === null ? -1 : base / 4 + this.word;
  }

  /** Before the context is freed: never write into memory that is no longer a context. */
  detach(): void {
    this.slot = -1;
  }

  /** Before running code: the first check comes after a few polls. */
  start(): void {
    this.period = START_PERIOD;
    this.lastCheck = performance.now();
    this.write(START_PERIOD);
  }

  /** From the interrupt handler (when the code may go on): sets the polls until the next check from how long these took. */
  next(): void {
    const now = performance.now();
    const elapsed = now - this.lastCheck;
    this.lastCheck = now;
    if (elapsed < FAST_MS) this.period = Math.min(this.period * 4, MAX_PERIOD);
    else if (elapsed > SLOW_MS) this.period = Math.max(1, this.period >> 2);
    this.write(this.period);
  }

  private write(period: number): void {
    if (this.slot < 0) return;
    const buffer = this.memory!.buffer;
    if (this.view === null || this.view.buffer !== buffer) this.view = new Int32Array(buffer);
    const current = this.view[this.slot]!;
    // The word holds a live counter (0 … 10 000); anything else means it is not ours: stop writing.
    if (current < -1 || current > QUICKJS_PERIOD) {
      this.slot = -1;
      return;
    }
    this.view[this.slot] = period;
  }
}
