/**
 * Reading, parsing and checking a policy set off the event loop (SPEC 5,
 * "reloads are parsed off the event loop"): the engine's hot reload would
 * otherwise stop `/healthz`, `/status` and rounds for as long as a large
 * file takes to parse and check (4 to 8 s for 1 MiB here). Runs
 * `check-worker.js` in a worker thread with a capped heap; from the
 * TypeScript sources (tests), where there is no worker script to run, it
 * does the same in-thread, through the same hand-off (`handoff.ts`).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import { parsePolicy } from "../../grammar/parse.js";
import type { CheckResult } from "../../grammar/types.js";
import type { ScriptLimits } from "../types.js";
import { type PolicySizeLimits, type PolicySources, readPolicySources } from "./files.js";
import { decodeChecked, encodeChecked } from "./handoff.js";
import { checkSources } from "./set.js";

/** What the worker posts: the sources, and the checked set (encoded) or, with `checked` null, the errors. */
export interface CheckedOffLoop {
  readonly read: PolicySources;
  /** `encodeChecked` of a set without errors; null when it has errors. */
  readonly checked: Uint8Array | null;
  /** Every diagnostic found (warnings only when `checked` is set). */
  readonly diagnostics: readonly Diagnostic[];
}

/** `CheckedOffLoop` with the checked set rebuilt on this side. */
export interface ReadAndChecked {
  readonly read: PolicySources;
  readonly checked: CheckResult | null;
  readonly diagnostics: readonly Diagnostic[];
}

/** The work of the worker: read `paths` within `limits`, parse and check them as one set. */
export async function checkOffLoop(paths: readonly string[], limits: PolicySizeLimits, scriptLimits: ScriptLimits): Promise<CheckedOffLoop> {
  const read = await readPolicySources(paths, { limits });
  const sources = read.sources.map((s) => ({ ...s, parsed: parsePolicy(s.text, s.file) }));
  const { checked, diagnostics } = await checkSources(sources, scriptLimits);
  if (hasErrors(diagnostics) || !checked.ok) return { read, checked: null, diagnostics };
  return { read, checked: encodeChecked(checked), diagnostics };
}

/** Heap of the worker: ~200 bytes per source byte of the largest set allowed, at least 256 MiB. */
function workerHeapMb(limits: PolicySizeLimits): number {
  return Math.max(256, Math.ceil((limits.setBytes * 200) / (1024 * 1024)));
}

/** The built worker script beside this module, or null when running from the sources. */
function workerScript(): string | null {
  if (!import.meta.url.endsWith(".js")) return null;
  const path = fileURLToPath(new URL("./check-worker.js", import.meta.url));
  return existsSync(path) ? path : null;
}

/** Runs `checkOffLoop` in a worker thread; a worker that dies (out of memory) rejects with why. */
function inWorker(script: string, paths: readonly string[], limits: PolicySizeLimits, scriptLimits: ScriptLimits): Promise<CheckedOffLoop> {
  return new Promise<CheckedOffLoop>((resolve, reject) => {
    const worker = new Worker(script, {
      workerData: { paths: [...paths], limits, scriptLimits },
      resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(limits) },
    });
    let done = false;
    worker.once("message", (m: CheckedOffLoop) => {
      done = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", (e: Error & { code?: string }) => {
      done = true;
      reject(new Error(e.code === "ERR_WORKER_OUT_OF_MEMORY" ? `parsing the policy set ran out of memory (${workerHeapMb(limits)} MiB)` : `parsing the policy set failed: ${e.message}`));
    });
    worker.once("exit", (code) => {
      if (!done) reject(new Error(`the policy parser stopped (exit code ${code})`));
    });
  });
}

/**
 * Reads `paths` (within `limits`), parses and checks every file, in a
 * worker thread when one can run; a clean set is rebuilt here a slice at a
 * time, awaiting `pause` between slices.
 */
export async function readAndCheck(
  paths: readonly string[],
  limits: PolicySizeLimits,
  scriptLimits: ScriptLimits,
  pause: () => Promise<void>,
): Promise<ReadAndChecked> {
  const script = workerScript();
  const found = script === null ? await checkOffLoop(paths, limits, scriptLimits) : await inWorker(script, paths, limits, scriptLimits);
  return { read: found.read, checked: found.checked === null ? null : await decodeChecked(found.checked, pause), diagnostics: found.diagnostics };
}
