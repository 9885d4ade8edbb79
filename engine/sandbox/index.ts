/**
 * The QuickJS sandbox for `script` blocks (SPEC 2.8, issue 4): the front
 * door that the checker (`scriptAnalyzer`) and the policy set loader
 * (`createPolicySandbox`) call. Load the WASM module once with
 * `await loadSandbox()`; everything after that is synchronous.
 *
 * Room `engine/sandbox/`: QuickJS for `script` blocks. Imports `grammar/`
 * and the shared `engine/*.ts` only.
 */
import type { ScriptAnalyzer } from "../../grammar/types.js";
import { DEFAULT_SCRIPT_LIMITS, type ScriptLimits } from "../types.js";
import { createAnalyzer } from "./analyzer.js";
import { abandonModule, loadSharedModule, sandboxWasLoaded, sharedModule } from "./module.js";
import { QuickJSPolicySandbox, type PolicySandbox, type PolicySandboxOptions } from "./policy.js";

export type { PolicySandbox, PolicySandboxOptions, ScriptCallResult } from "./policy.js";
export { LOG_LINES_PER_ROUND } from "./policy.js";

/** Loads the QuickJS WASM module (release, sync) once; idempotent, and waits for a replacement after a crash. */
export async function loadSandbox(): Promise<void> {
  await loadSharedModule();
}

/**
 * The analyzer the checker injects (`grammar/types.ts`). Each block runs in
 * a fresh runtime with `limits` (default `DEFAULT_SCRIPT_LIMITS`). Throws
 * if `loadSandbox()` was not awaited first.
 */
export function scriptAnalyzer(limits: ScriptLimits = DEFAULT_SCRIPT_LIMITS): ScriptAnalyzer {
  if (!sandboxWasLoaded()) throw new Error("scriptAnalyzer(): await loadSandbox() first");
  return createAnalyzer(
    () => {
      const shared = sharedModule();
      if (shared === null) throw new Error("the script sandbox is restarting after a crash");
      return shared.module;
    },
    limits,
    abandonModule,
  );
}

/**
 * One sandbox per policy with `script` blocks: all blocks evaluated in one
 * QuickJS context, reused across rounds. Throws if `loadSandbox()` was not
 * awaited first; a block that fails to load makes every call fail with a
 * message instead.
 */
export function createPolicySandbox(options: PolicySandboxOptions): PolicySandbox & { memoryUsage(): { usedBytes: number; allocations: number } } {
  if (options.module === undefined && !sandboxWasLoaded()) throw new Error("createPolicySandbox(): await loadSandbox() first");
  return new QuickJSPolicySandbox(options);
}
