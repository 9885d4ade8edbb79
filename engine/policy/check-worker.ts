/**
 * The worker thread behind `readAndCheck` (off-loop.ts): reads, parses and
 * checks the policy files away from the engine's event loop. A set with
 * errors comes back as its diagnostics only, so a broken or hostile file
 * never costs the loop anything; a clean set comes back checked
 * (`handoff.ts`, in a transferred buffer), so the loop only compiles it and
 * never checks it again. A set that exhausts this worker's heap kills the
 * worker, not the engine.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ScriptLimits } from "../types.js";
import type { PolicySizeLimits } from "./files.js";
import { checkOffLoop } from "./off-loop.js";

const { paths, limits, scriptLimits } = workerData as { paths: string[]; limits: PolicySizeLimits; scriptLimits: ScriptLimits };
const found = await checkOffLoop(paths, limits, scriptLimits);
// Moved, not copied; only a buffer of its own (never a slice of Node's pool) can be.
const own = found.checked !== null && found.checked.byteOffset === 0 && found.checked.byteLength === found.checked.buffer.byteLength;
const transfer = own ? [found.checked!.buffer as ArrayBuffer] : [];
parentPort!.postMessage(found, transfer);
