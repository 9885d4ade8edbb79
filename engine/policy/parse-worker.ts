/**
 * The worker thread behind `readAndParse` (off-loop.ts): reads, parses and
 * checks the policy files away from the engine's event loop. A set with
 * errors comes back as its diagnostics only, so a broken or hostile file
 * never costs the loop anything; a clean set comes back with its ASTs
 * (plain data, structured-cloned) for the loop to compile. Parsing is most
 * of the cost of a load (measured in docs/engine.md), and a set that
 * exhausts this worker's heap kills the worker, not the engine.
 */
import { parentPort, workerData } from "node:worker_threads";
import { hasErrors } from "../../grammar/diagnostics.js";
import { parsePolicy } from "../../grammar/parse.js";
import type { ScriptLimits } from "../types.js";
import { type PolicySizeLimits, readPolicySources } from "./files.js";
import { checkSources } from "./set.js";

const { paths, limits, scriptLimits } = workerData as { paths: string[]; limits: PolicySizeLimits; scriptLimits: ScriptLimits };
const read = await readPolicySources(paths, { limits });
const parsed = read.sources.map((s) => parsePolicy(s.text, s.file));
const { diagnostics } = await checkSources(
  read.sources.map((s, i) => ({ ...s, parsed: parsed[i]! })),
  scriptLimits,
);
const errors = hasErrors(diagnostics);
parentPort!.postMessage({ read, parsed: errors ? null : parsed, diagnostics: errors ? diagnostics : [] });
