/**
 * `npm run bench [-- --json] [-- NAME…]`: runs every benchmark module of
 * `BENCHMARKS` (or those named) one after another, prints a table, and with
 * `--json` ends with one JSON line holding every figure.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Benchmark, BenchResult } from "./api.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.filter((a) => !a.startsWith("--"));

/** The modules (in bench/) whose default export is a `Benchmark`, in the order they run. */
const BENCHMARKS = ["check", "parse-memory", "plan", "plan-script", "script", "simulate", "cli", "facts", "lsp", "dashboard", "record", "engine-cost"];

const files = BENCHMARKS.map((name) => `${name}.js`);
const results: Record<string, BenchResult> = {};
for (const file of files) {
  const bench = (await import(pathToFileURL(join(here, file)).href)).default as Benchmark;
  if (only.length > 0 && !only.includes(bench.name)) continue;
  process.stderr.write(`running ${bench.name}: ${bench.description}\n`);
  const result = await bench.run();
  results[bench.name] = result;
  console.log(`${bench.name.padEnd(18)} ${formatResult(result)}`);
}
if (json) console.log(JSON.stringify(results));

function formatResult(result: BenchResult): string {
  return Object.entries(result)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join("  ");
}
