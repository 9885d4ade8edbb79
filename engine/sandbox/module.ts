/**
 * The one QuickJS WASM module that every script sandbox shares, and its
 * replacement after a crash. A few pathological scripts (a JSON value nested
 * a million deep, a parse of 100 000 nested parentheses) can exhaust the
 * host's native stack inside WASM before QuickJS's own stack check fires;
 * V8 then throws a RangeError through the WASM frames and the module's
 * state can no longer be trusted. We then drop the module, load a fresh one
 * in the background, and every sandbox rebuilds itself on it.
 */
import { newQuickJSWASMModule, newVariant, RELEASE_SYNC, type QuickJSWASMModule } from "quickjs-emscripten";

let current: QuickJSWASMModule | null = null;
/** Bumped each time the module is replaced; sandboxes compare it to know they must rebuild. */
let generation = 0;
let loading: Promise<void> | null = null;

/** Loads the shared module once; after a crash, waits for the replacement. Idempotent. */
export async function loadSharedModule(): Promise<void> {
  if (current !== null) return;
  if (loading === null) {
    loading = newQuickJSWASMModule(quietVariant()).then((m) => {
      guardModule(m);
      current = m;
      generation += 1;
      loading = null;
    });
  }
  await loading;
}

/**
 * The release-sync variant with emscripten's stderr filtered: the memory
 * guard below makes emscripten print "growMemory: … got error" for every
 * refused growth, which is expected and would flood the engine's log.
 */
function quietVariant() {
  const printErr = (text: string): void => {
    if (!/grow(Memory| the heap)/.test(text)) console.error(text);
  };
  // `printErr` is a standard emscripten Module option the loader honours but does not declare.
  return newVariant(RELEASE_SYNC, { emscriptenModule: { printErr } as Record<string, unknown> });
}

/** The shared module, or null while a replacement is loading (or before `loadSandbox`). */
export function sharedModule(): { readonly module: QuickJSWASMModule; readonly generation: number } | null {
  return current === null ? null : { module: current, generation };
}

/** True once `loadSandbox()` has been awaited at least once (even if a crash has since dropped the module). */
export function sandboxWasLoaded(): boolean {
  return generation > 0;
}

/**
 * Called when a host exception escaped from WASM while running on `module`:
 * abandons that module (its runtimes are never touched again) and starts
 * loading a fresh one. Calls made before it is ready fail with a message.
 */
export function abandonModule(module: QuickJSWASMModule): void {
  if (current !== module) return;
  current = null;
  void loadSharedModule().catch(() => {
    // A failed reload leaves `current` null: calls keep failing with a
    // clear message and the next loadSandbox() retries.
    loading = null;
  });
}

// ---------------------------------------------------------------- memory guard

/**
 * `rt.setMemoryLimit` is not a byte limit in the prebuilt WASM: under
 * emscripten QuickJS adds 8 bytes per allocation to its running total, so
 * it bounds the size of one allocation and the number of allocations, and
 * a script can fill the module's heap up to 2 GiB with big strings or
 * arrays (quickjs-emscripten issues #255 and #271; measured here: a 32 MiB
 * limit let one runtime reach 2 GiB). The real ceiling is the module's
 * linear memory, so we refuse to grow it beyond what the live sandboxes
 * have reserved: emscripten's malloc then returns NULL and QuickJS throws
 * its ordinary "out of memory".
 */
interface MemoryGuard {
  readonly memory: WebAssembly.Memory;
  readonly baseline: number;
  reserved: number;
}

const guards = new WeakMap<QuickJSWASMModule, MemoryGuard>();

/**
 * Epoch ms after which the running script call may not grow the heap. QuickJS
 * never checks its interrupt handler inside one native call (`new
 * Array(1e6).fill(1)` is tens of ms), so a call past its deadline that asks
 * for more memory gets "out of memory" instead: allocation is charged to the
 * deadline. Infinity between calls.
 */
let callDeadline = Number.POSITIVE_INFINITY;

/** Set by a sandbox around each script call (`context.ts`). */
export function setCallDeadline(deadline: number): void {
  callDeadline = deadline;
}

/** Extra room beyond the reservations, for QuickJS's own bookkeeping and fragmentation. */
const GUARD_SLACK_BYTES = 16 * 1024 * 1024;

/** Installs the guard on a module we created (test modules, e.g. the debug variant, stay unguarded). */
function guardModule(module: QuickJSWASMModule): MemoryGuard | null {
  const existing = guards.get(module);
  if (existing !== undefined) return existing;
  let memory: WebAssembly.Memory;
  try {
    memory = module.getWasmMemory();
  } catch {
    return null; // a variant that hides its memory: only QuickJS's own limit applies
  }
  const guard: MemoryGuard = { memory, baseline: memory.buffer.byteLength, reserved: 0 };
  const grow = memory.grow.bind(memory);
  Object.defineProperty(memory, "grow", {
    configurable: true,
    value: (delta: number): number => {
      if (Date.now() > callDeadline || memory.buffer.byteLength + delta * 65536 > guard.baseline + guard.reserved + GUARD_SLACK_BYTES) {
        throw new RangeError("vmpolicy: script sandbox memory exhausted");
      }
      return grow(delta);
    },
  });
  guards.set(module, guard);
  return guard;
}

/** Reserves `bytes` of the module's heap for one runtime; returns the release function. */
export function reserveMemory(module: QuickJSWASMModule, bytes: number): () => void {
  const guard = guards.get(module);
  if (guard === undefined) return () => {};
  guard.reserved += bytes;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    guard.reserved -= bytes;
  };
}

/** The module heap's size in bytes (0 when the variant hides it); a change during a call means something grew. */
export function heapBytes(module: QuickJSWASMModule): number {
  return guards.get(module)?.memory.buffer.byteLength ?? 0;
}
