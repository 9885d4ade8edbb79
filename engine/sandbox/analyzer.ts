/**
 * The checker's view of a `script` block (issue 4, "Checking"): it runs the
 * block once in a fresh, limited sandbox and reports the functions it
 * defines, or the JavaScript error with its line and column relative to the
 * block. Running (not just parsing) is what reveals which names a block
 * really defines, and catches top-level code that throws or never ends.
 */
import type { QuickJSWASMModule } from "quickjs-emscripten";
import type { ScriptAnalyzer } from "../../grammar/types.js";
import type { ScriptLimits } from "../types.js";
import { SandboxContext } from "./context.js";
import { classifyError, formatBytes } from "./errors.js";

type Analysis = ReturnType<ScriptAnalyzer["analyze"]>;

/** An analyzer that builds each block's sandbox on `module()`; `onCrash` is told when WASM itself failed. */
export function createAnalyzer(
  module: () => QuickJSWASMModule,
  limits: ScriptLimits,
  onCrash: (module: QuickJSWASMModule) => void,
): ScriptAnalyzer {
  return {
    analyze(source: string): Analysis {
      let mod: QuickJSWASMModule;
      try {
        mod = module();
      } catch (error) {
        return { ok: false, message: error instanceof Error ? error.message : String(error), line: 1, column: 1 };
      }
      let sandbox: SandboxContext | null = null;
      try {
        sandbox = new SandboxContext(mod, limits.memoryBytes, () => {});
        const ran = sandbox.evalBlock(source, 0, limits.callMs);
        if (!ran.ok) return failure(ran.error, limits);
        const found = sandbox.collect(limits.callMs);
        if (!found.ok) return failure(found.error, limits);
        return { ok: true, functions: found.value };
      } catch (error) {
        // The WASM module itself failed (e.g. the host stack ran out while
        // parsing absurdly nested code): report it and start over on a new module.
        sandbox = null;
        onCrash(mod);
        return { ok: false, message: `the script could not be analysed: ${error instanceof Error ? error.message : String(error)}`, line: 1, column: 1 };
      } finally {
        sandbox?.dispose();
      }
    },
  };
}

/** The analysis of a block whose evaluation failed with the dumped error `error`. */
function failure(error: unknown, limits: ScriptLimits): Analysis {
  const kind = classifyError(error);
  const place = kind.kind === "badResult" ? null : kind.place;
  const at = { line: place?.line ?? 1, column: place?.column ?? 1 };
  switch (kind.kind) {
    case "interrupted":
      return { ok: false, message: `the block's top-level code exceeded the time limit of ${limits.callMs} ms`, ...at };
    case "memory":
      return { ok: false, message: `the block's top-level code exceeded the memory limit of ${formatBytes(limits.memoryBytes)}`, ...at };
    case "stack":
      return { ok: false, message: "the block's top-level code overflowed the stack", ...at };
    case "badResult":
      return { ok: false, message: `the block returned ${kind.what}`, ...at };
    case "thrown":
      return { ok: false, message: kind.text, ...at };
  }
}
