/**
 * `npm run bench [-- --json] [-- NAME…]`: runs every `bench/*-bench.ts`
 * module (or those named) one after another, prints a table, and with
 * `--json` ends with one JSON line holding every figure.
 */
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Benchmark, BenchResult } from "./bench-api.js";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.filter((a) => !a.startsWith("--"));

const files = (await readdir(here)).filter((f) => f.endsWith("-bench.js")).sort();
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
