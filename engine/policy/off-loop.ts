/**
 * Reading, parsing and checking a policy set off the event loop (SPEC 5,
 * "reloads are parsed off the event loop"): the engine's hot reload would
 * otherwise stop `/healthz`, `/status` and rounds for as long as a large
 * file takes to parse (4 to 8 s for 1 MiB here). Runs `parse-worker.js` in
 * a worker thread with a capped heap; from the TypeScript sources (tests),
 * where there is no worker script to run, it does the same in-thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { hasErrors } from "../../grammar/diagnostics.js";
import type { ParseResult } from "../../grammar/parse.js";
import { parsePolicy } from "../../grammar/parse.js";
import type { ScriptLimits } from "../types.js";
import { type PolicySizeLimits, type PolicySources, readPolicySources } from "./files.js";
import { checkSources } from "./set.js";

/**
 * What the worker found: the sources, and either each file's parse result
 * (in order; the set checked clean) or, with `parsed` null, the errors.
 */
export interface ReadAndParsed {
  readonly read: PolicySources;
  readonly parsed: readonly ParseResult[] | null;
  readonly diagnostics: readonly Diagnostic[];
}

/** Heap of the worker: ~200 bytes per source byte of the largest set allowed, at least 256 MiB. */
function workerHeapMb(limits: PolicySizeLimits): number {
  return Math.max(256, Math.ceil((limits.setBytes * 200) / (1024 * 1024)));
}

/** The built worker script beside this module, or null when running from the sources. */
function workerScript(): string | null {
  if (!import.meta.url.endsWith(".js")) return null;
  const path = fileURLToPath(new URL("./parse-worker.js", import.meta.url));
  return existsSync(path) ? path : null;
}

/**
 * Reads `paths` (within `limits`), parses and checks every file, in a
 * worker thread when one can run. A worker that dies (out of memory)
 * rejects with why.
 */
export async function readAndParse(paths: readonly string[], limits: PolicySizeLimits, scriptLimits: ScriptLimits): Promise<ReadAndParsed> {
  const script = workerScript();
  if (script === null) {
    const read = await readPolicySources(paths, { limits });
    const parsed = read.sources.map((s) => parsePolicy(s.text, s.file));
    const { diagnostics } = await checkSources(read.sources.map((s, i) => ({ ...s, parsed: parsed[i]! })), scriptLimits);
    return hasErrors(diagnostics) ? { read, parsed: null, diagnostics } : { read, parsed, diagnostics: [] };
  }
  return new Promise<ReadAndParsed>((resolve, reject) => {
    const worker = new Worker(script, {
      workerData: { paths: [...paths], limits, scriptLimits },
      resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(limits) },
    });
    let done = false;
    worker.once("message", (m: ReadAndParsed) => {
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
