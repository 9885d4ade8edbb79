/**
 * The embedded demo cluster (`startEmbeddedCluster`, exactly as `vmpolicy
 * run` starts it with no config) in a process of its own, for
 * `bench/engine-cost.ts`: so the engine's process holds nothing but the
 * engine, and the demo agents' own cost (their HTTP servers and the
 * simulated guests) is measured apart instead of being billed to the engine.
 *
 * Prints the hosts as one JSON line once listening; then answers every line
 * read on stdin with `process.cpuUsage()` (µs) as one JSON line.
 */
import { createInterface } from "node:readline";
import { pino } from "pino";
import { startEmbeddedCluster } from "../engine/run/embedded-cluster.js";

const cluster = await startEmbeddedCluster({ log: pino({ level: "warn" }, { write: () => undefined }) });
console.log(JSON.stringify(cluster.hosts));
createInterface({ input: process.stdin })
  .on("line", () => console.log(JSON.stringify(process.cpuUsage())))
  .on("close", () => void cluster.close().then(() => process.exit(0)));
