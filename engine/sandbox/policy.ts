/**
 * The sandbox of one policy (issue 4, "Running"): one QuickJS runtime that
 * holds all of the policy's script blocks, built when the policy set loads
 * and reused across rounds (each round after one that made calls gets a
 * fresh context on it, so no script state survives a round), with a time
 * limit per call, a time budget per round, a memory limit, and recovery: a
 * context left unusable (or a WASM module that crashed) is rebuilt, so one
 * bad call fails one binding only.
 */
import type { QuickJSWASMModule } from "quickjs-emscripten";
import type { Position } from "../../grammar/ast.js";
import type { ScriptLimits } from "../types.js";
import { SandboxContext } from "./context.js";
import { abandonModule, heapBytes, sharedModule } from "./module.js";
import { callFailureMessage, formatBytes, classifyError, policyLineSuffix, roundLimitMessage, toPolicyPosition } from "./errors.js";

/** What one script call gives the planner. */
export type ScriptCallResult = { ok: true; value: unknown } | { ok: false; message: string };

/** The per-policy sandbox the compiled policy calls into. */
export interface PolicySandbox {
  /** Starts the round's time budget (`roundMs`) and console quota for this policy. */
  beginRound(): void;
  /** Calls script function `name` with plain JSON arguments or `ScriptRef`s. Never throws. */
  call(name: string, args: readonly unknown[]): ScriptCallResult;
  /** Forgets the round's arguments: the objects stay in QuickJS until the next round, the planner's views are let go. */
  endRound(): void;
  /** Frees the runtime; later calls fail with a message. */
  dispose(): void;
}

export interface PolicySandboxOptions {
  readonly policy: string;
  readonly scripts: readonly { source: string; sourceStart: Position }[];
  readonly limits: ScriptLimits;
  readonly log?: (policy: string, message: string) => void;
  /** Tests only: build on this module (e.g. the debug variant) instead of the shared one. */
  readonly module?: QuickJSWASMModule;
}

/** Console lines per policy per round that reach the log; the rest are counted and dropped. */
export const LOG_LINES_PER_ROUND = 100;

/** The implementation behind `createPolicySandbox`. */
export class QuickJSPolicySandbox implements PolicySandbox {
  private sandbox: SandboxContext | null = null;
  private generation = -1;
  private loadError: string | null = null;
  private roundUsedMs = 0;
  private logLines = 0;
  /** A call ran in the current context: its globals may hold state, so the next round gets a fresh one. */
  private called = false;
  private disposed = false;
  private readonly starts: readonly Position[];

  constructor(private readonly options: PolicySandboxOptions) {
    this.starts = options.scripts.map((s) => s.sourceStart);
    this.ensure();
  }

  beginRound(): void {
    this.roundUsedMs = 0;
    this.logLines = 0;
    const sandbox = this.sandbox;
    // A sandbox of an abandoned (crashed) module is never touched again.
    if (sandbox === null || this.generation !== this.currentModule()?.generation) return;
    if (this.loadError !== null) {
      // A block that failed to load may have failed for a passing reason
      // (memory taken by another policy's runaway script): retry each round.
      this.discard();
      return;
    }
    // Memory a script kept in its globals shows only here (QuickJS's own
    // limit does not add it up): over the limit, say so.
    const over = sandbox.memoryUsage().usedBytes > this.options.limits.memoryBytes;
    if (over) this.options.log?.(this.options.policy, `scripts held more than the memory limit of ${formatBytes(this.options.limits.memoryBytes)}; the sandbox was rebuilt`);
    if (over) {
      this.discard();
      return;
    }
    sandbox.clearArguments();
    // A plan is a pure function of facts, policies and params: whatever a
    // script kept in its globals last round must not reach this one. The
    // runtime stays; a fresh context with the blocks evaluated again costs
    // well under a millisecond, and a round after one with no calls keeps its own.
    if (this.called) {
      this.called = false;
      try {
        sandbox.freshContext();
      } catch {
        this.discard(); // rebuilt whole on the next call, which reports what fails
        return;
      }
      this.loadError = this.loadBlocks(sandbox);
    }
  }

  call(name: string, args: readonly unknown[]): ScriptCallResult {
    if (this.disposed) return fail(`script ${name}: the policy's script sandbox was disposed`);
    const unavailable = this.ensure();
    if (unavailable !== null) return fail(`script ${name}: ${unavailable}`);
    const sandbox = this.sandbox!;
    this.called = true;
    if (!sandbox.has(name)) return fail(`script ${name}: no script block of policy ${this.options.policy} defines a function ${name}`);
    const { limits } = this.options;
    const remaining = limits.roundMs - this.roundUsedMs;
    if (remaining <= 0) return fail(roundLimitMessage(name, limits.roundMs));
    const roundLimited = remaining < limits.callMs;
    const started = performance.now();
    const heapBefore = heapBytes(sandbox.module);
    let outcome: ReturnType<SandboxContext["call"]>;
    try {
      outcome = sandbox.call(name, args, Date.now() + Math.min(limits.callMs, remaining));
    } catch (error) {
      if (error instanceof TypeError && /circular|BigInt/i.test(error.message)) {
        return fail(`script ${name}: arguments cannot cross into the sandbox: ${error.message}`);
      }
      this.crashed(sandbox);
      return fail(`script ${name}: the script sandbox crashed (${error instanceof Error ? error.message : String(error)}) and is being restarted`);
    } finally {
      // A call that overran its limit (a native builtin QuickJS cannot interrupt) is charged its limit only: its overrun is not taken from the policy's other calls.
      this.roundUsedMs += Math.min(performance.now() - started, limits.callMs);
    }
    if (heapBytes(sandbox.module) !== heapBefore && sandbox.memoryUsage().usedBytes > limits.memoryBytes) {
      this.discard();
      return fail(callFailureMessage(name, { kind: "memory", place: null }, limits, roundLimited, this.starts));
    }
    if (outcome.ok) return { ok: true, value: outcome.value };
    const kind = classifyError(outcome.error);
    // Cut by the round deadline: the budget is spent, whatever the clocks' rounding says.
    if (kind.kind === "interrupted" && roundLimited) this.roundUsedMs = Math.max(this.roundUsedMs, limits.roundMs);
    // Out of memory leaves whatever the script built in its globals: start
    // over. After a timeout or a stack overflow QuickJS usually recovers;
    // probe and rebuild only if it did not.
    if (kind.kind === "memory" || ((kind.kind === "interrupted" || kind.kind === "stack") && !sandbox.usable())) this.discard();
    return fail(callFailureMessage(name, kind, limits, roundLimited, this.starts));
  }

  endRound(): void {
    // A sandbox of an abandoned (crashed) module is never touched again.
    if (this.sandbox === null || this.generation !== this.currentModule()?.generation) return;
    this.sandbox.clearArguments();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.discard();
  }

  /** QuickJS's accounting of the current runtime (for leak tests and diagnostics); zeros when none is built. */
  memoryUsage(): { usedBytes: number; allocations: number } {
    return this.sandbox?.memoryUsage() ?? { usedBytes: 0, allocations: 0 };
  }

  /**
   * Makes sure a sandbox is built on the current module (rebuilding after a
   * discard or a module crash). Returns why calls cannot run, or null.
   */
  private ensure(): string | null {
    const shared = this.currentModule();
    if (shared === null) return "the script sandbox is restarting after a crash; try again next round";
    if (this.sandbox !== null && this.generation === shared.generation) return this.loadError;
    // A sandbox of an abandoned module is dropped, never touched again.
    this.sandbox = null;
    this.loadError = null;
    this.called = false;
    this.generation = shared.generation;
    try {
      this.sandbox = new SandboxContext(shared.module, this.options.limits.memoryBytes, (line) => this.forwardLog(line));
    } catch (error) {
      this.loadError = error instanceof Error ? error.message : String(error);
      return this.loadError;
    }
    this.loadError = this.loadBlocks(this.sandbox);
    return this.loadError;
  }

  /** The module to build on: the shared one (null while it is being replaced), or the injected test module. */
  private currentModule(): { readonly module: QuickJSWASMModule; readonly generation: number } | null {
    return this.options.module === undefined ? sharedModule() : { module: this.options.module, generation: 0 };
  }

  /** Evaluates every block and caches the functions; returns the first failure as a message. */
  private loadBlocks(sandbox: SandboxContext): string | null {
    const { scripts, limits } = this.options;
    try {
      for (let i = 0; i < scripts.length; i++) {
        const ran = sandbox.evalBlock(scripts[i]!.source, i, limits.callMs);
        if (!ran.ok) {
          const kind = classifyError(ran.error);
          const at = toPolicyPosition(scripts[i]!.sourceStart, 1, 1).line;
          const what =
            kind.kind === "thrown"
              ? `${kind.text}${policyLineSuffix(kind.place, this.starts)}`
              : kind.kind === "interrupted"
                ? `its top-level code exceeded the time limit of ${limits.callMs} ms`
                : kind.kind === "memory"
                  ? "its top-level code exceeded the memory limit"
                  : kind.kind === "stack"
                    ? "its top-level code overflowed the stack"
                    : `it returned ${kind.what}`;
          return `the script block starting on line ${at} of the policy file failed to load: ${what}`;
        }
      }
      const found = sandbox.collect(limits.callMs);
      if (!found.ok) return `the policy's script functions could not be listed (${classifyError(found.error).kind})`;
      return null;
    } catch (error) {
      this.crashed(sandbox);
      return `the script sandbox crashed while loading (${error instanceof Error ? error.message : String(error)})`;
    }
  }

  private forwardLog(line: string): void {
    const log = this.options.log;
    if (log === undefined) return;
    this.logLines += 1;
    if (this.logLines <= LOG_LINES_PER_ROUND) log(this.options.policy, line);
    else if (this.logLines === LOG_LINES_PER_ROUND + 1) log(this.options.policy, `console output beyond ${LOG_LINES_PER_ROUND} lines this round is dropped`);
  }

  /** Frees the current runtime (it is rebuilt on the next call). */
  private discard(): void {
    const sandbox = this.sandbox;
    this.sandbox = null;
    this.loadError = null;
    this.called = false;
    if (sandbox === null) return;
    try {
      sandbox.dispose();
    } catch {
      // Disposing a runtime whose module crashed can throw; the module is gone anyway.
    }
  }

  /** WASM threw a host exception: the runtime (and, if shared, the module) cannot be trusted again. */
  private crashed(sandbox: SandboxContext): void {
    if (this.sandbox === sandbox) this.sandbox = null;
    sandbox.abandon();
    this.loadError = null;
    if (this.options.module === undefined) abandonModule(sandbox.module);
  }
}

function fail(message: string): ScriptCallResult {
  return { ok: false, message };
}
