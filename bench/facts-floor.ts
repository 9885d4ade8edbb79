/**
 * The floor under `engine_cpu_pct`, for `bench/engine-cost.ts`: a bare Node
 * process that does only what no engine can skip — every 10 s it asks each
 * demo agent (URLs as arguments) for `/facts` with undici on a keep-alive
 * connection and parses the JSON — measured over the same window as the
 * engine, on the same machine under the same load.
 *
 * Prints `ready` once started; then answers every line read on stdin with
 * `process.cpuUsage()` (µs) as one JSON line.
 */
import { createInterface } from "node:readline";
import { request } from "undici";

const urls = process.argv.slice(2);
const ask = () => Promise.all(urls.map(async (url) => JSON.parse(await (await request(`${url}/facts`)).body.text()) as unknown));
setInterval(() => void ask(), 10_000);
await ask();
console.log("ready");
createInterface({ input: process.stdin })
  .on("line", () => console.log(JSON.stringify(process.cpuUsage())))
  .on("close", () => process.exit(0));
